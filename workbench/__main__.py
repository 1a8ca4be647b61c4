"""`python -m workbench` and the `workbench` command: open the desktop app."""

import sys


def main() -> None:
    from workbench.gui.app import main as gui_main
    sys.exit(gui_main())


if __name__ == "__main__":
    main()
