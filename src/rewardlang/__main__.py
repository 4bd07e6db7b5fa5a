"""``python -m rewardlang``: the ``rewardlang`` command."""

from rewardlang.cli import main

if __name__ == "__main__":
    main(prog_name="rewardlang")
