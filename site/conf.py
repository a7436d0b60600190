"""Sphinx configuration of the course website (``make site``).

tools/build_site.py lays the pages out in build/site-src (this file, the pages
of site/, the executed notebooks, the exercises' page it writes, the benchmark
report) and runs Sphinx there; the site goes to build/site. Nothing is fetched,
at build time or when the site is read: the theme's assets come with its
package, MathJax with django-static-mathjax, and the notebooks are not re-run.
"""
project = "Training deep networks"
author = "the course's authors"
copyright = "2026, the course's authors"
language = "en"

# githubpages: a .nojekyll file, so that GitHub Pages serves _static/ and _images/
extensions = ["myst_nb", "sphinx.ext.githubpages"]
# The committed notebooks are executed in the full profile: show them as they are.
nb_execution_mode = "off"
nb_merge_streams = True
# A figure's output carries its PNG twice: as image/png (with its text alternative in the
# output's metadata, which tools/build_site.py writes as the alt of the image file) and as an
# HTML <img alt> for JupyterLab (lecture_utils.plots.figure_bundle). The site takes the PNG:
# an image file, not the picture inlined in the page.
nb_mime_priority_overrides = [("html", "image/png", 25)]
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_heading_anchors = 3
exclude_patterns = ["_build", "**.ipynb_checkpoints"]
suppress_warnings = ["mystnb.unknown_mime_type"]

html_theme = "sphinx_book_theme"
html_title = "Training deep networks"
html_static_path = ["_static"]
html_css_files = ["course.css"]
html_favicon = "_static/favicon.svg"
html_last_updated_fmt = None
# Light, like the figures (white matplotlib backgrounds); the reader can switch.
html_context = {"default_mode": "light"}
html_show_sourcelink = False
html_copy_source = False
html_theme_options = {
    "show_toc_level": 2,
    "use_download_button": False,
    "use_fullscreen_button": False,
    "use_repository_button": False,
    "show_prev_next": True,
    "home_page_in_toc": True,
}

# MathJax 3, as the django-static-mathjax package ships it (MathJax's own files,
# no Django needed), copied into _static/mathjax by tools/build_site.py. SVG
# output: no web fonts to load. MyST adds its classes to MathJax's settings.
mathjax_path = "mathjax/tex-svg.js"
