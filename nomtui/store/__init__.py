"""The store: cluster watches turned into immutable view states, and the commands.

Layering (DESIGN.md): client → models → store → screens. This package never imports
Textual; screens get states by iterating `Store.subscribe(view)` in a worker and send
writes through the store's commands, which refuse in read-only mode.

Modules: `views` (view keys, `ViewState` and the data types), `snapshots` (pure
builders), `sources` (which watches feed which view), `watches` (shared, reference-
counted channels), `signals` and `info` (the header's reads, made when the watches give
a reason, never on a timer), `commands` (writes), `core` (`Store`).
"""

from nomtui.store.commands import COMMANDS
from nomtui.store.core import Store
from nomtui.store.views import (
    AllocHealth,
    AllocsView,
    AllocTotals,
    AllocView,
    ClusterData,
    ClusterView,
    Connection,
    ConsulStatus,
    DeploymentsView,
    JobDetail,
    JobsView,
    JobView,
    NodesView,
    NodeTotals,
    ServiceInstance,
    ServiceRow,
    ServicesData,
    ServicesView,
    Table,
    View,
    ViewKey,
    ViewState,
)
from nomtui.store.watches import Subscription

__all__ = [
    "COMMANDS",
    "AllocHealth",
    "AllocTotals",
    "AllocView",
    "AllocsView",
    "ClusterData",
    "ClusterView",
    "Connection",
    "ConsulStatus",
    "DeploymentsView",
    "JobDetail",
    "JobView",
    "JobsView",
    "NodeTotals",
    "NodesView",
    "ServiceInstance",
    "ServiceRow",
    "ServicesData",
    "ServicesView",
    "Store",
    "Subscription",
    "Table",
    "View",
    "ViewKey",
    "ViewState",
]
