"""The raw files as the reference company's systems deliver them: duplicated and junk rows,
the legacy export's own layout and defects, messy spellings; each defect recorded in the truth."""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.sample.world import (
    CATEGORIES,
    CATEGORY_CN,
    COMPLAINT_CATEGORIES,
    COMPLAINT_LABELS,
    MONTH_STARTS,
    N_MONTHS,
    REGION_CN,
    REGION_SPELLINGS,
    REGIONS,
    SEVERITY_WRITTEN,
    SampleParams,
    dates_in_month,
    logistic,
    pick,
)


def inject_duplicates(rng: np.random.Generator, frame: pd.DataFrame, share: float) -> tuple[
        pd.DataFrame, np.ndarray]:
    """Append exact copies of a random share of rows next to their originals."""
    k = round(share * len(frame))
    dup_pos = np.sort(rng.choice(len(frame), size=k, replace=False)) if k else np.array([], int)
    out = pd.concat([frame, frame.iloc[dup_pos]])
    order = np.argsort(np.concatenate([np.arange(len(frame)), dup_pos]), kind="stable")
    return out.iloc[order].reset_index(drop=True), dup_pos


def money_text(values: pd.Series) -> pd.Series:
    """Non-negative amounts rounded to cents as text with two decimals ('12.50'), built with
    string columns rather than one Python string per row (the 10M-line sample's memory)."""
    cents = np.rint(values.to_numpy(dtype=float) * 100).astype(np.int64)
    whole = pd.Series(cents // 100).astype("str")
    return whole + "." + pd.Series(cents % 100).astype("str").str.zfill(2)


def current_rows(lines: pd.DataFrame) -> pd.DataFrame:
    """Order lines as the current order system writes them (no defects)."""
    column = lambda values: values.reset_index(drop=True)  # noqa: E731 (string columns stay)
    return pd.DataFrame({
        "order_id": column(lines["order_id"]),
        "line_no": lines["line_no"].to_numpy(),
        "customer_id": column(lines["customer_id"]),
        "order_date": column(lines["order_date"].dt.strftime("%Y-%m-%d")),
        "product_id": column(lines["product_id"]),
        "category": column(lines["category"]),
        "region": column(lines["region"]),
        "quantity": np.abs(lines["quantity"].to_numpy()),
        "unit_price": money_text(lines["unit_price"]),
        "list_price": money_text(lines["list_price"]),
        "amount": money_text(lines["amount"].abs()),
        "line_type": np.where(lines["is_return"], "return", "sale"),
    })


def current_orders_file(rng, lines: pd.DataFrame, params: SampleParams):
    out = current_rows(lines)
    # junk rows: staff test orders without a customer, zero-quantity lines, impossible dates
    n_junk = max(3, round(params.junk_share_current * len(out)))
    junk = out.iloc[rng.choice(len(out), size=n_junk, replace=False)].copy()
    kinds = np.resize(["missing customer_id", "zero quantity", "invalid order_date"], n_junk)
    junk["line_no"] = 90 + np.arange(n_junk) % 9
    junk.loc[kinds == "missing customer_id", "customer_id"] = ""
    junk.loc[kinds == "zero quantity", "quantity"] = 0
    junk.loc[kinds == "zero quantity", "amount"] = "0.00"
    n_bad_dates = int((kinds == "invalid order_date").sum())
    bad_dates = np.resize(["2024-02-30", "2023-13-01", "0000-00-00"], n_bad_dates)
    junk.loc[kinds == "invalid order_date", "order_date"] = bad_dates
    out = pd.concat([out, junk]).sort_values(["order_date", "order_id", "line_no"], kind="stable",
                                             ignore_index=True)
    out, dup_pos = inject_duplicates(rng, out, params.duplicate_share_current)
    dups = out.iloc[dup_pos] if len(dup_pos) else out.iloc[:0]
    defects = pd.concat([
        pd.DataFrame({"source": "orders_current", "kind": "duplicate",
                      "key": dups["order_id"] + "#" + dups["line_no"].astype(str)}),
        pd.DataFrame({"source": "orders_current", "kind": kinds,
                      "key": junk["order_id"] + "#" + junk["line_no"].astype(str)}),
    ], ignore_index=True)
    return out, defects


def legacy_orders_file(rng, lines: pd.DataFrame, params: SampleParams):
    """The legacy export of ``lines`` (true values), with the legacy system's definitions and
    the history defects of ``params``; returns (raw file, defects, CRM id-migration table)."""
    lines = lines.reset_index(drop=True)
    month = lines["order_date"].dt.to_period("M")
    # whole region-months lost (never the first or last legacy month)
    months = np.sort(month.unique())[1:-1]
    cells = [(r, m) for r in REGIONS for m in months]
    picked = rng.choice(len(cells), size=params.n_missing_months + params.n_duplicated_months,
                        replace=False)
    missing = [cells[i] for i in picked[: params.n_missing_months]]
    doubled = [cells[i] for i in picked[params.n_missing_months:]]
    in_cell = lambda cell: (lines["region"] == cell[0]) & (month == cell[1])  # noqa: E731
    lost = np.zeros(len(lines), dtype=bool)
    for cell in missing:
        lost |= in_cell(cell).to_numpy()
    defects = [pd.DataFrame({"source": "orders_legacy", "kind": "missing_month",
                             "key": [f"{r}|{m}" for r, m in missing]})]
    lines = lines.loc[~lost].reset_index(drop=True)
    month = lines["order_date"].dt.to_period("M")

    # customer identity: some customers kept their old member number in the legacy system
    customers = np.unique(lines["cust"])
    dual = np.sort(rng.choice(customers, size=round(params.dual_id_share * customers.size),
                              replace=False))
    legacy_no = dict(zip(dual, 7_000_001 + rng.permutation(dual.size), strict=True))
    cust = lines["cust"].to_numpy()
    cust_no = cust.astype(np.int64) + 1
    if dual.size:  # the dual-id customers' lines carry their old number
        position = np.minimum(np.searchsorted(dual, cust), dual.size - 1)
        numbers = np.array([legacy_no[c] for c in dual], dtype=np.int64)
        cust_no = np.where(dual[position] == cust, numbers[position], cust_no)
    cust_no = pd.Series(cust_no)
    id_map = pd.DataFrame({"legacy_customer_no": [legacy_no[c] for c in dual],
                           "customer_id": [f"C{c + 1:06d}" for c in dual]})
    defects.append(pd.DataFrame({"source": "orders_legacy", "kind": "dual_id",
                                 "key": id_map["legacy_customer_no"].astype(str),
                                 "column": "customer_id", "true_value": id_map["customer_id"],
                                 "raw_value": id_map["legacy_customer_no"].astype(str)}))

    bill_no = lines["order_id"].str.slice(2).astype(int) + 500_000
    out = pd.DataFrame({
        "BILL_NO": bill_no.to_numpy(),
        "ITEM_SEQ": lines["line_no"].to_numpy(),
        "CUST_NO": cust_no.to_numpy(),
        # the legacy system dated a bill on its invoice date, the day after the order
        "BILL_DATE": (lines["order_date"] + pd.Timedelta(days=1)).dt.strftime("%d/%m/%Y")
        .to_numpy(),
        "ITEM_CODE": lines["product_id"].to_numpy(),
        "CATEGORY_CN": lines["category"].map(CATEGORY_CN).to_numpy(),
        "AREA_CN": lines["region"].map(REGION_CN).to_numpy(),
        "QTY": lines["quantity"].to_numpy(),
        "PRICE_FEN": np.round(lines["unit_price"].to_numpy() * 100).astype(np.int64),
        "LIST_FEN": np.round(lines["list_price"].to_numpy() * 100).astype(np.int64),
        "AMOUNT_FEN": np.round(lines["amount"].to_numpy() * 100).astype(np.int64),
    }).astype({c: object for c in ["QTY", "PRICE_FEN", "AMOUNT_FEN", "LIST_FEN"]})
    key = out["BILL_NO"].astype(str) + "#" + out["ITEM_SEQ"].astype(str)

    # keying errors on sale lines, each line at most one
    sales = np.nonzero(~lines["is_return"].to_numpy())[0]
    kinds = [("unit_slip", params.unit_slip_share), ("impossible_date",
             params.impossible_date_share), ("outlier_amount", params.outlier_amount_share),
             ("quantity_slip", params.quantity_slip_share),
             ("missing_amount", params.missing_amount_share)]
    sizes = [round(share * sales.size) for _, share in kinds]
    chosen = rng.choice(sales, size=sum(sizes), replace=False)
    start = 0
    for (kind, _), size in zip(kinds, sizes, strict=True):
        rows = np.sort(chosen[start: start + size])
        start += size
        changes: dict[str, object] = {}
        if kind == "unit_slip":
            changes = {c: out.loc[rows, c].astype(np.int64) * 100
                       for c in ["PRICE_FEN", "LIST_FEN", "AMOUNT_FEN"]}
        elif kind == "impossible_date":
            true_date = lines.loc[rows, "order_date"] + pd.Timedelta(days=1)
            bad = np.where(rng.random(rows.size) < 0.7, (true_date + pd.DateOffset(years=10))
                           .dt.strftime("%d/%m/%Y"), "01/01/1900")
            changes = {"BILL_DATE": bad}
        elif kind == "outlier_amount":
            changes = {"AMOUNT_FEN": out.loc[rows, "AMOUNT_FEN"].astype(np.int64) * 10
                       + rng.integers(1, 10, rows.size)}
        elif kind == "quantity_slip":
            changes = {"QTY": out.loc[rows, "QTY"].astype(np.int64) + 10}
        elif kind == "missing_amount":
            changes = {"PRICE_FEN": "", "AMOUNT_FEN": ""}
        for column, values in changes.items():
            defects.append(pd.DataFrame({
                "source": "orders_legacy", "kind": kind, "key": key.iloc[rows].to_numpy(),
                "column": column, "true_value": out.loc[rows, column].astype(str).to_numpy(),
                "raw_value": pd.Series(values, index=rows).astype(str).to_numpy()}))
            out.loc[rows, column] = values

    # one region-month exported a second time, under new bill numbers, appended at the end
    for cell in doubled:
        copy = out.loc[in_cell(cell).to_numpy()].copy()
        copy["BILL_NO"] = copy["BILL_NO"] + 9_000_000
        defects.append(pd.DataFrame({
            "source": "orders_legacy", "kind": "duplicated_month",
            "key": (copy["BILL_NO"].astype(str) + "#" + copy["ITEM_SEQ"].astype(str)).to_numpy(),
            "column": f"{cell[0]}|{cell[1]}"}))
        out = pd.concat([out, copy], ignore_index=True)

    out, dup_pos = inject_duplicates(rng, out, params.duplicate_share_legacy)
    dups = out.iloc[dup_pos] if len(dup_pos) else out.iloc[:0]
    keys = dups["BILL_NO"].astype(str) + "#" + dups["ITEM_SEQ"].astype(str)
    defects.append(pd.DataFrame({"source": "orders_legacy", "kind": "duplicate", "key": keys}))
    return out, pd.concat(defects, ignore_index=True), id_map


def customers_file(rng, customers: pd.DataFrame, params: SampleParams):
    n = len(customers)
    region_written = np.array([rng.choice(REGION_SPELLINGS[r]) for r in customers["region"]],
                              dtype=object)
    city = customers["city"].to_numpy(dtype=object).copy()
    style = rng.integers(0, 5, n)
    city = np.where(style == 1, np.char.upper(city.astype(str)), city)
    city = np.where(style == 2, np.char.lower(city.astype(str)), city)
    city = np.where(style == 3, np.char.add(city.astype(str), "  "), city)
    city = np.where(style == 4, np.char.replace(city.astype(str), "'", ""), city)
    date_style = rng.random(n)
    join = customers["join_date"]
    join_written = np.where(date_style < 0.9, join.dt.strftime("%Y-%m-%d"),
                            join.dt.strftime("%Y/%m/%d"))
    channel = customers["channel"].to_numpy(dtype=object)
    channel = np.where(rng.random(n) < 0.3, np.char.capitalize(channel.astype(str)), channel)
    out = pd.DataFrame({"customer_id": customers["customer_id"].to_numpy(),
                        "region": region_written, "city": city, "join_date": join_written,
                        "channel": channel})
    out, dup_pos = inject_duplicates(rng, out, params.duplicate_share_customers)
    dups = out.iloc[dup_pos] if len(dup_pos) else out.iloc[:0]
    defects = pd.DataFrame({"source": "customers", "kind": "duplicate",
                            "key": dups["customer_id"].to_numpy()})
    return out, defects


def market_index_file(market_index: np.ndarray) -> pd.DataFrame:
    c, r, m = np.meshgrid(np.arange(len(CATEGORIES)), np.arange(len(REGIONS)),
                          np.arange(N_MONTHS), indexing="ij")
    return pd.DataFrame({
        "category": np.asarray(CATEGORIES, dtype=object)[c.ravel()],
        "region": np.asarray(REGIONS, dtype=object)[r.ravel()],
        "month": MONTH_STARTS[m.ravel()].strftime("%Y-%m"),
        "index": [f"{v:.1f}" for v in market_index.ravel()],
    })


def survey_files(rng, params: SampleParams, customer_id, loyalty, join_month, churn_or_end,
                 incentive: tuple[int, float] = (-1, 1.0)):
    """Quarterly survey waves to a share of the active customers; in the month of
    ``incentive`` (month, factor) each invitee's chance of answering is multiplied by the
    factor (the same uniform draws decide: the incentive only adds answers)."""
    rows = []
    for wave, m in enumerate(range(2, N_MONTHS, 3), start=1):
        active = np.nonzero((join_month <= m) & (churn_or_end > m))[0]
        k = round(params.survey_invite_share * active.size)
        invited = np.sort(rng.choice(active, size=k, replace=False))
        rows.append(pd.DataFrame({"cust": invited, "wave": wave, "month": m}))
    inv = pd.concat(rows, ignore_index=True)
    inv["invitation_id"] = [f"S{i:07d}" for i in range(1, len(inv) + 1)]
    inv["sent_date"] = MONTH_STARTS[inv["month"]] + pd.Timedelta(days=2)
    z = loyalty[inv["cust"]]
    p_respond = logistic(params.survey_response_intercept
                          + params.survey_response_loyalty_coef * z)
    inv["incentive"] = inv["month"] == incentive[0]
    inv["p_without_incentive"] = p_respond
    inv["p_respond"] = np.where(inv["incentive"], np.minimum(1.0, p_respond * incentive[1]),
                                p_respond)
    inv["responded"] = rng.random(len(inv)) < inv["p_respond"]
    inv["true_recommend"] = np.clip(np.round(6.5 + 1.8 * z + 1.2 * rng.standard_normal(len(inv))),
                                    0, 10).astype(int)
    inv["true_satisfaction"] = np.clip(np.round(3.4 + 0.8 * z + 0.6 * rng.standard_normal(
        len(inv))), 1, 5).astype(int)
    inv["reversed"] = inv["responded"] & (rng.random(len(inv)) < params.reversed_scale_share)
    inv["recommend_written"] = np.where(inv["reversed"], 10 - inv["true_recommend"],
                                        inv["true_recommend"])
    inv["response_date"] = inv["sent_date"] + pd.to_timedelta(rng.integers(0, 21, len(inv)), "D")
    inv["customer_id"] = customer_id[inv["cust"]]
    raw_inv = pd.DataFrame({"invitation_id": inv["invitation_id"],
                            "customer_id": inv["customer_id"],
                            "sent_date": inv["sent_date"].dt.strftime("%Y-%m-%d"),
                            "wave": inv["wave"]})
    resp = inv[inv["responded"]]
    raw_resp = pd.DataFrame({"invitation_id": resp["invitation_id"],
                             "response_date": resp["response_date"].dt.strftime("%Y-%m-%d"),
                             "q_recommend": resp["recommend_written"],
                             "q_satisfaction": resp["true_satisfaction"]})
    truth = inv[["invitation_id", "customer_id", "wave", "responded", "true_recommend",
                 "true_satisfaction", "reversed", "incentive", "p_respond",
                 "p_without_incentive"]].assign(loyalty_z=z)
    return raw_inv, raw_resp.reset_index(drop=True), truth


def referrals_file(rng, customer_id, loyalty, join_month, join_date, churn_or_end):
    referred = np.nonzero((join_month >= 1) & (rng.random(join_month.size) < 0.2))[0]
    weight = np.exp(1.0 * loyalty)
    referrer = np.empty(referred.size, dtype=np.int64)
    keep = np.ones(referred.size, dtype=bool)
    month_of = join_month[referred]
    for m in np.unique(month_of):  # one draw per month: linear in customers, not quadratic
        mine = np.nonzero(month_of == m)[0]
        candidates = np.nonzero((join_month < m) & (churn_or_end > m))[0]
        if candidates.size == 0:
            keep[mine] = False
            continue
        w = weight[candidates]
        referrer[mine] = candidates[rng.choice(candidates.size, size=mine.size, p=w / w.sum())]
    referred, referrer = referred[keep], referrer[keep]
    return pd.DataFrame({"referrer_id": customer_id[referrer],
                         "referred_customer_id": customer_id[referred],
                         "referral_date": join_date[referred].strftime("%Y-%m-%d")})


def engagement_file(rng, customer_id, loyalty, join_month, churn_or_end):
    first = np.maximum(join_month, 0)
    span = np.maximum(churn_or_end - first, 0)
    frames = []
    follow_prob = logistic(-0.8 + 1.1 * loyalty)
    follows = np.nonzero((span > 0) & (rng.random(loyalty.size) < follow_prob))[0]
    frames.append((follows, "FOLLOW"))
    for kind, rate, effect in [("EVENT_ATTENDED", 0.25, 0.9), ("NEWSLETTER_CLICK", 1.0, 0.5)]:
        counts = rng.poisson(rate * np.exp(effect * loyalty) * span / 12.0)
        frames.append((np.repeat(np.arange(loyalty.size), counts), kind))
    out = []
    for who, kind in frames:
        month = first[who] + np.floor(rng.random(who.size) * span[who]).astype(int)
        out.append(pd.DataFrame({"customer_id": customer_id[who],
                                 "event_date": dates_in_month(rng, month).strftime("%Y-%m-%d"),
                                 "kind": kind}))
    events = pd.concat(out, ignore_index=True)
    return events.sort_values(["event_date", "customer_id", "kind"], ignore_index=True)


def complaints_file(rng, customer_id, complaints: np.ndarray):
    cust, month = np.nonzero(complaints)
    reps = complaints[cust, month]
    cust, month = np.repeat(cust, reps), np.repeat(month, reps)
    date = dates_in_month(rng, month)
    order = np.lexsort((cust, date.to_numpy()))
    cust, date = cust[order], date[order]
    category = pick(rng, COMPLAINT_CATEGORIES, cust.size, [0.3, 0.2, 0.15, 0.15, 0.1, 0.1])
    severity = rng.choice([1, 2, 3], size=cust.size, p=[0.5, 0.35, 0.15])
    label = np.array([rng.choice(COMPLAINT_LABELS[c]) for c in category], dtype=object)
    severity_written = np.array([rng.choice(SEVERITY_WRITTEN[s]) for s in severity], dtype=object)
    complaint_id = np.array([f"K{i:06d}" for i in range(1, cust.size + 1)], dtype=object)
    raw = pd.DataFrame({"complaint_id": complaint_id, "customer_id": customer_id[cust],
                        "complaint_date": date.strftime("%Y-%m-%d"), "label": label,
                        "severity": severity_written})
    truth = pd.DataFrame({"complaint_id": complaint_id, "category": category,
                          "severity": severity})
    return raw, truth
