"""Per-field accuracy of the extractor on every labeled extraction case (run by hand):

    python -m benchmarks.fields

Cases: tests/fixtures/pages, tests/fixtures/sites/*/expected and tests/fixtures/sources/*/.
Prints, per field, the cases, how many are right and the accuracy (dates to the minute in
UTC, images as (url, caption, credit), the rest exactly), then the non-article confusion
counts (non-articles that landed, articles that were rejected) and the cases by language and
layout family. tests/spiders/extraction/test_field_accuracy.py asserts the thresholds.
"""

from __future__ import annotations

import sys
from pathlib import Path

# The case loader and the scoring live beside the extraction tests, which use them too.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "spiders" / "extraction"))

from field_accuracy import measure, table


def main() -> None:
    print(table(measure()))


if __name__ == "__main__":
    main()
