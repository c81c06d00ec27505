"""Weekday × hour-of-day profiles, with aoristic weighting for incidents known only by a window.

An incident with ``occurred_from``/``occurred_to`` (e.g. a burglary discovered after a weekend away)
is spread evenly over the hours its window touches (each hour gets 1/k of the incident); windows
longer than a week spread evenly over all 168 weekday-hours. Without a window the point time counts.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from planner._hours import unknown_time_of

WEEK_HOURS = 168


def time_profile(incidents: pd.DataFrame, *, aoristic: bool = True) -> np.ndarray:
    """A 7 × 24 array (Monday first, hours 0–23) summing to the number of incidents with a time."""
    unknown = unknown_time_of(incidents)
    if unknown is not None:  # 00:00 placeholders for "time unknown" have no hour
        incidents = incidents.loc[~unknown]
    t = pd.to_datetime(incidents["occurred_at"])
    has_window = aoristic and {"occurred_from", "occurred_to"} <= set(incidents.columns)
    start = pd.to_datetime(incidents["occurred_from"]) if has_window else t
    end = pd.to_datetime(incidents["occurred_to"]) if has_window else t
    start = start.fillna(t)
    end = end.fillna(start)
    ok = start.notna().to_numpy()
    first = start.dt.floor("h")[ok]
    hours = ((end[ok] - first).dt.total_seconds() // 3600).clip(lower=0).astype(int).to_numpy() + 1
    week_of = (first.dt.day_of_week * 24 + first.dt.hour).to_numpy()
    out = np.zeros(WEEK_HOURS)
    long = hours >= WEEK_HOURS
    out += long.sum() / WEEK_HOURS
    short = ~long
    if short.any():
        k = hours[short]
        span = np.arange(WEEK_HOURS)[None, :]
        mask = span < k[:, None]  # the hours each window touches, as offsets from its first hour
        slots = (week_of[short][:, None] + span) % WEEK_HOURS
        np.add.at(out, slots[mask], np.repeat(1.0 / k, k))
    return out.reshape(7, 24)
