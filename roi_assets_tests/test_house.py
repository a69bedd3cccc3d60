"""How the package is laid out, as rules a newcomer can rely on: every asset and check defined
anywhere is in the graph, no domain reaches into another's asset modules, the registry is a
resource, and only the world and the evaluation module read the simulator's truth."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from pathlib import Path

import dagster as dg

import roi_assets

PACKAGE = Path(roi_assets.__file__).parent
# The world and the scoring API are not part of the graph.
OUTSIDE_THE_GRAPH = ("roi_assets.simulator", "roi_assets.serving")
# Only these may read the world's truth.* tables.
TRUTH_READERS = ("simulator", "evaluation")


def product_modules() -> list[str]:
    return [
        module.name
        for module in pkgutil.walk_packages([str(PACKAGE)], prefix="roi_assets.")
        if not module.name.startswith(OUTSIDE_THE_GRAPH)
    ]


def source_files() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_every_asset_and_check_defined_in_the_package_is_in_the_graph():
    from roi_assets.definitions import defs

    graph = defs.resolve_asset_graph()
    in_graph = set(graph.get_all_asset_keys())
    checks_in_graph = set(graph.asset_check_keys)
    found_assets, found_checks = set(), set()
    for name in product_modules():
        for value in vars(importlib.import_module(name)).values():
            if isinstance(value, dg.AssetsDefinition):
                found_assets |= set(value.keys)
                found_checks |= set(value.check_keys)
            elif isinstance(value, dg.AssetChecksDefinition):
                found_checks |= set(value.check_keys)
    assert found_assets and found_assets <= in_graph, found_assets - in_graph
    assert found_checks and found_checks <= checks_in_graph, found_checks - checks_in_graph


def _domain(path: Path) -> str:
    return path.relative_to(PACKAGE).parts[0]


def test_no_domain_imports_another_domain_s_asset_modules():
    crossing = []
    # definitions.py, at the package's top, assembles the graph and its resources: not a domain
    for path in (p for p in source_files() if p.parent != PACKAGE):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                parts = node.module.split(".")
                imported_domain = parts[1] if len(parts) > 1 else ""
                if parts[-1] == "assets" and imported_domain != _domain(path):
                    crossing.append(f"{path.relative_to(PACKAGE)} imports {node.module}")
    assert crossing == []


def test_only_the_registry_resource_points_mlflow_at_a_store():
    allowed = {Path("resources/registry.py"), Path("resources/tracking.py")}
    setting = [
        path.relative_to(PACKAGE)
        for path in source_files()
        if "set_tracking_uri(" in path.read_text() and path.relative_to(PACKAGE) not in allowed
    ]
    assert setting == []


def test_only_the_world_and_the_evaluation_module_read_truth():
    reads_truth = re.compile(r"\btruth\.[a-z_]+", re.IGNORECASE)
    product_code = [p for p in source_files() if _domain(p) not in TRUTH_READERS]
    dbt_models = sorted((PACKAGE.parent / "dbt_project" / "models").rglob("*.sql"))
    readers = {str(p) for p in [*product_code, *dbt_models] if reads_truth.search(p.read_text())}
    assert product_code and dbt_models and readers == set()
