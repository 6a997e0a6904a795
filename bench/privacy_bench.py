"""Membership inference against ZKPoT, plain FedAvg and DP-SGD FedAvg (issue 21).

The same code path as ``zkpot privacy``: trains the three systems on the bundled digits
(or any ``--data`` spec), attacks every observer's view and writes
``results/privacy.json``, ``results/privacy.md`` and ``results/privacy.png``.

    .venv/bin/python bench/privacy_bench.py                  # digits, the defaults
    .venv/bin/python bench/privacy_bench.py --epochs 20      # longer local training
    .venv/bin/python bench/privacy_bench.py --out /tmp/p     # anywhere else

Any option of ``zkpot privacy`` is passed through. A few minutes on 2 cores.
"""

from __future__ import annotations

import sys

from zkpot.privacy.command import privacy

if __name__ == "__main__":
    privacy.main(args=sys.argv[1:], prog_name="privacy_bench.py")
