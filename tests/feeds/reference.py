"""An independent reference for timetable planning: a plain networkx time-expanded Dijkstra.

Written separately from :mod:`advisor.routing.timetable` (it shares only the imported
:class:`Timetable` arrays) so the tests can compare earliest arrivals, and the benchmark can
time the naive way. Nodes are events: a trip departing a stop, a trip arriving at a stop,
and "waiting at a place at time t"; edge weights are the seconds between the events, so the
arrival time is the start time plus the path length.

Semantics it shares with the planner on purpose: boarding at the origin needs no change
time; changing vehicles at a place needs ``change_seconds(place)`` (``math.inf``: no change
there); trips of the previous service day that run past midnight and trips of the next day
are included; nobody boards where the feed's pickup_type is 1 or gets off where its
drop_off_type is 1 (read straight from the stop-time columns, not through the planner).
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections import defaultdict
from datetime import date, timedelta
from itertools import pairwise

import networkx as nx

DAY = 86_400


class TimeExpandedReference:
    """The whole service day (with its neighbours) as one directed networkx graph."""

    def __init__(self, timetable, day: date, change_seconds):
        self.tt = timetable
        graph = nx.DiGraph()
        waits = defaultdict(set)  # place -> departure times
        arrivals = []  # (place, time, node)
        for offset in (-1, 0, 1):
            for trip in timetable.trips_on(day + timedelta(days=offset)):
                last = timetable.trip_offsets[trip + 1] - 1
                if offset == -1 and timetable.st_arrival[last] < DAY:
                    continue  # yesterday's trip ended before the day began
                self._add_trip(graph, trip, offset * DAY, waits, arrivals)
        self.wait_times = {p: sorted(ts) for p, ts in waits.items()}
        for place, times in self.wait_times.items():
            for t1, t2 in pairwise(times):
                graph.add_edge(("wait", place, t1), ("wait", place, t2), weight=t2 - t1)
        for place, t, node in arrivals:
            graph.add_edge(node, ("sink", place), weight=0)
            ready = t + change_seconds(place)
            times = self.wait_times.get(place, [])
            k = bisect_left(times, ready)
            if k < len(times):
                graph.add_edge(node, ("wait", place, times[k]), weight=times[k] - t)
        self.graph = graph

    def _add_trip(self, graph, trip, shift, waits, arrivals):
        tt = self.tt
        start, end = tt.trip_offsets[trip], tt.trip_offsets[trip + 1]
        no_pickup = tt.st_pickup_type or bytes(tt.stop_time_count)
        no_drop_off = tt.st_drop_off_type or bytes(tt.stop_time_count)
        for row in range(start, end):
            place = tt.st_place[row]
            arr, dep = tt.st_arrival[row] + shift, tt.st_departure[row] + shift
            if row > start:
                if no_drop_off[row] != 1:
                    arrivals.append((place, arr, ("arr", trip, shift, row)))
                graph.add_edge(
                    ("dep", trip, shift, row - 1),
                    ("arr", trip, shift, row),
                    weight=arr - (tt.st_departure[row - 1] + shift),
                )
                if row < end - 1:
                    graph.add_edge(
                        ("arr", trip, shift, row), ("dep", trip, shift, row), weight=dep - arr
                    )
            if row < end - 1 and no_pickup[row] != 1:
                waits[place].add(dep)
                graph.add_edge(("wait", place, dep), ("dep", trip, shift, row), weight=0)

    def earliest_arrival(self, origin: int, destination: int, seconds: int) -> float:
        """Earliest arrival (seconds after the day's start) or ``math.inf``."""
        times = self.wait_times.get(origin, [])
        k = bisect_left(times, seconds)
        if k == len(times) or ("sink", destination) not in self.graph:
            return math.inf
        source = ("wait", origin, times[k])
        try:
            length = nx.dijkstra_path_length(self.graph, source, ("sink", destination))
        except nx.NetworkXNoPath:
            return math.inf
        return times[k] + length

    def latest_departure(self, origin: int, destination: int, deadline: int) -> float:
        """The latest boarding time at *origin* that still arrives by *deadline*, or
        ``-math.inf``: a binary search over the origin's departures (earliest arrival never
        decreases with a later start)."""
        times = self.wait_times.get(origin, [])
        lo, hi, best = 0, len(times) - 1, -math.inf
        while lo <= hi:
            mid = (lo + hi) // 2
            if self.earliest_arrival(origin, destination, times[mid]) <= deadline:
                best, lo = times[mid], mid + 1
            else:
                hi = mid - 1
        return best
