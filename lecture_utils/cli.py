"""``lecture-utils``: the course's command line.

    lecture-utils doctor        the environment report and the data verdict
    lecture-utils fetch-data    download Fashion-MNIST into Keras's cache, verified
"""

from __future__ import annotations

import argparse
import sys


def _doctor(args) -> int:
    from . import data
    from .profile import environment_report

    try:
        print(environment_report())
    except ValueError as exc:  # an unknown LECTURE_PROFILE
        print(f"error: {exc}", file=sys.stderr)
        return 2
    source = data.find_source()
    if source is None:
        print("\n" + data._not_found_message("it has not been downloaded yet"))
        return 1
    try:
        data.verify(source)
    except data.DataError as exc:
        print(f"\n{exc}")
        return 1
    print(f"\nFashion-MNIST is ready ({source.kind}: {source.path}).")
    return 0


def _fetch_data(args) -> int:
    from . import data

    target = data.keras_cache_dir()
    try:
        source = data.download()
    except data.DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"Fashion-MNIST downloaded and verified in {source.path}" if source.path == target
          else f"Fashion-MNIST verified in {source.path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="lecture-utils", description="Helpers for the course "
                                     "'Training deep networks'.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    commands.add_parser("doctor", help="print the environment report and check the data").set_defaults(run=_doctor)
    commands.add_parser("fetch-data", help="download Fashion-MNIST into Keras's cache and verify it"
                        ).set_defaults(run=_fetch_data)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
