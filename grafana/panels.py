"""The few shapes every openisp dashboard is made of, on Grafana's foundation SDK.

Queries of a run's dashboards select with :func:`sel`, so every one of them
follows the ``$run`` variable and the variables of its labels:

>>> sel("openisp_link_price", link="$link")
'openisp_link_price{run=~"$run", link=~"$link"}'
>>> sel("openisp_market_welfare")
'openisp_market_welfare{run=~"$run"}'
"""
from __future__ import annotations

from grafana_foundation_sdk.builders import common, stat, timeseries
from grafana_foundation_sdk.builders.dashboard import QueryVariable
from grafana_foundation_sdk.builders.prometheus import Dataquery
from grafana_foundation_sdk.models.common import (BigValueGraphMode, LegendDisplayMode, LegendPlacement,
                                                  TooltipDisplayMode, VisibilityMode)
from grafana_foundation_sdk.models.dashboard import DataSourceRef, VariableOption, VariableRefresh, VariableSort

__all__ = ["RUN", "BENCH", "sel", "query", "series", "number", "variable", "run_variable"]

#: The datasources grafana/provisioning/datasources/openisp.yaml provisions, by uid.
RUN = DataSourceRef(type_val="prometheus", uid="openisp-run")
BENCH = DataSourceRef(type_val="prometheus", uid="openisp-bench")


def sel(metric: str, **labels: str) -> str:
    """``metric`` selected by ``$run`` and by ``label=~value`` for each keyword."""
    matchers = ", ".join(f'{k}=~"{v}"' for k, v in {"run": "$run", **labels}.items())
    return f"{metric}{{{matchers}}}"


def query(expr: str, legend: str = "", ref: str = "A") -> Dataquery:
    q = Dataquery().expr(expr).ref_id(ref).range()
    return q.legend_format(legend) if legend else q


def series(title: str, description: str, unit: str, *targets: Dataquery, datasource: DataSourceRef = RUN,
           width: int = 12, height: int = 8, points: bool = False, min_value: float | None = None):
    """A time series panel; ``points`` for sparse data (one sample per benchmark run)."""
    panel = (timeseries.Panel().title(title).description(description).unit(unit).datasource(datasource)
             .span(width).height(height).targets(list(targets)).span_nulls(True)
             .show_points(VisibilityMode.ALWAYS if points else VisibilityMode.NEVER)
             .legend(common.VizLegendOptions().display_mode(LegendDisplayMode.TABLE)
                     .placement(LegendPlacement.BOTTOM).show_legend(True).calcs(["lastNotNull", "max"]))
             .tooltip(common.VizTooltipOptions().mode(TooltipDisplayMode.MULTI)))
    return panel.min(min_value) if min_value is not None else panel


def number(title: str, description: str, unit: str, expr: str, datasource: DataSourceRef = RUN, width: int = 6):
    """A stat panel: the last value, with its sparkline."""
    return (stat.Panel().title(title).description(description).unit(unit).datasource(datasource)
            .span(width).height(4).with_target(query(expr))
            .graph_mode(BigValueGraphMode.AREA)
            .reduce_options(common.ReduceDataOptions().calcs(["lastNotNull"]).values(False)))


def variable(name: str, metric: str, label: str, description: str, datasource: DataSourceRef = RUN,
             all_value: str | None = None) -> QueryVariable:
    """A multi-value variable of ``label``'s values on ``metric`` in the time range, "All" by default."""
    v = (QueryVariable(name).id(name).label(name).description(description).datasource(datasource)
         .query(f"label_values({metric}, {label})").multi(True).include_all(True)
         .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED).sort(VariableSort.ALPHABETICAL_ASC)
         .current(VariableOption(selected=True, text="All", value="$__all")))
    return v.all_value(all_value) if all_value is not None else v


def run_variable() -> QueryVariable:
    """``$run``: the scenario of each series, where the database holds several runs.

    A run's own Prometheus stores no ``run`` label (it is an external label, added
    only when the data leaves that server), so "All" is ``.*``, which also matches a
    missing label.
    """
    return variable("run", "openisp_market_epoch", "run",
                    "The run (scenario) to show, where this Prometheus holds several.", all_value=".*")
