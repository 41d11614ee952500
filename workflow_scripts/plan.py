"""`make plan`: what a config costs (jobs, GPU/CPU-hours, memory, disk) and, given a finished
pilot run, what its Table 1 can conclude; before any job runs and without the data on disk.

    .venv/bin/python workflow_scripts/plan.py --config configs/paper.yaml
    .venv/bin/python workflow_scripts/plan.py --config config.yaml --pilot results/

Prints the tables and writes the same numbers to --output (results/plan.json). Exits 1, with the
config gate's own message, for a config the workflow refuses, and for a pilot from another config.
docs/planning.md explains every figure.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from lottery_mia.atomic import write_json
from lottery_mia.config import ConfigError
from lottery_mia.plan import cost_plan
from lottery_mia.plan_dag import PlanError, planned_workflow
from lottery_mia.plan_report import cost_lines, plan_document, power_lines, resolution_lines
from lottery_mia.plan_resolution import resolutions
from lottery_mia.power import power_plan
from lottery_mia.power_pilot import PilotError, read_pilot


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=Path("config.yaml"))
    parser.add_argument("--pilot", type=Path, help="results/ of a finished run of this config")
    parser.add_argument("--output", type=Path, default=Path("results/plan.json"))
    args = parser.parse_args(argv)
    try:
        workflow = planned_workflow(args.config)
        cost = cost_plan(workflow.jobs, workflow.config)
        resolution = resolutions(workflow.config)
        power = None
        if args.pilot is not None:
            pilot = read_pilot(args.pilot, workflow.table1_method)
            power = power_plan(pilot, workflow.config, workflow.table1_keys)
    except (ConfigError, PlanError, PilotError) as err:
        print(err, file=sys.stderr)
        return 1
    lines = [*cost_lines(cost, str(args.config)), "", *resolution_lines(resolution)]
    if power is not None:
        lines += ["", *power_lines(power, str(args.pilot))]
    print("\n".join(lines))
    pilot_name = None if args.pilot is None else str(args.pilot)
    document = plan_document(str(args.config), cost, resolution, power, pilot_name)
    write_json(args.output, json.loads(json.dumps(document, default=str)))
    print(f"\nwritten to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
