"""The Audit page: who changed what and when, filtered, with each entry's before/after, and an
export of what is shown. Read-only: the app has no way to change an entry (and the store refuses
ORM updates and deletes of audit entries, models.tables)."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from dashboard import audit as A
from dashboard.i18n import Translator
from dashboard.ui.context import widget_key

LOCAL_TZ = A.LOCAL_TZ


def read_filter(entries: pd.DataFrame, t: Translator) -> A.AuditFilter:
    days = pd.to_datetime(entries["at"], utc=True).dt.tz_convert(LOCAL_TZ).dt.date
    c1, c2, c3, c4 = st.columns([3, 2, 2, 3])  # the day range needs room for two full dates
    span = c1.date_input(t("audit.filter.days"), value=(days.min(), days.max()), key=widget_key("audit_days"))
    actors = c2.multiselect(t("audit.filter.actors"), sorted(entries["actor"].unique()), key=widget_key("audit_actors"),
                            placeholder=t("audit.filter.all"))
    groups = sorted(entries["action"].map(A.action_group).unique())
    chosen = c3.multiselect(t("audit.filter.groups"), groups, key=widget_key("audit_groups"), placeholder=t("audit.filter.all"),
                            format_func=lambda g: t(f"audit.group.{g}") if t.has(f"audit.group.{g}") else g)
    text = c4.text_input(t("audit.filter.text"), key=widget_key("audit_text"), placeholder=t("audit.filter.text_hint"))
    start, end = (span[0], span[-1]) if isinstance(span, (tuple, list)) and span else (None, None)
    return A.AuditFilter(start=start, end=end, actors=tuple(actors), groups=tuple(chosen), text=text)


def entry_table(entries: pd.DataFrame, t: Translator) -> pd.DataFrame:
    return pd.DataFrame({
        t("audit.col.id"): entries["id"].astype(int),
        t("audit.col.at"): pd.to_datetime(entries["at"], utc=True).dt.tz_convert(LOCAL_TZ).dt.strftime("%Y-%m-%d %H:%M:%S"),
        t("audit.col.actor"): entries["actor"].astype(str),
        t("audit.col.action"): entries["action"].astype(str),
        t("audit.col.entity"): entries["entity"].astype(str),
        t("audit.col.key"): entries["entity_key"].astype(str),
        t("audit.col.summary"): entries["summary"].astype(str),
    })


def _pretty(text: str):
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def show_entry(entries: pd.DataFrame, t: Translator) -> None:
    ids = [int(i) for i in entries["id"]]
    chosen = st.selectbox(t("audit.detail.pick"), ids, key="audit_entry",
                          format_func=lambda i: t("audit.detail.label", id=i,
                                                  action=entries.loc[entries["id"] == i, "action"].iloc[0]))
    row = entries[entries["id"] == chosen].iloc[0]
    left, right = st.columns(2)
    left.markdown(f"**{t('audit.detail.before')}**")
    before = _pretty(row["before_json"])
    left.json(before) if before is not None else left.caption(t("audit.detail.none"))
    right.markdown(f"**{t('audit.detail.after')}**")
    after = _pretty(row["after_json"])
    right.json(after) if after is not None else right.caption(t("audit.detail.none"))
