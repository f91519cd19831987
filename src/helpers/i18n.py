"""Report language: English (default) or Chinese for the pages managers read.

``use("zh")`` switches the sentences written through ``text`` and the chart text to Chinese and
sets matplotlib to a CJK font: Noto Sans CJK SC (SIL Open Font License), installed with the
pinned ``mplfonts`` package (only its Noto file is used). Notebook markdown comes in one cell
per language, tagged ``lang:en`` / ``lang:zh``; the report runner keeps the cells of the run's
``report_language`` (analysts in JupyterLab see both).

Coverage so far: the run's index page, the executive summary and the scorecard (08); other
pages keep English sentences and charts (see the issue notes).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

LANGUAGES = ("en", "zh")
CJK_FONT_FILE = "NotoSansCJKsc-Regular.otf"
CJK_FONT_NAME = "Noto Sans CJK SC"
_state = {"language": "en"}


class LanguageError(ValueError):
    """An unknown report language, or the CJK font is not installed."""


def cjk_font_path() -> Path:
    """The Noto Sans CJK SC font file shipped by the ``mplfonts`` package (not imported)."""
    spec = importlib.util.find_spec("mplfonts")
    if spec is None or not spec.submodule_search_locations:
        raise LanguageError("report_language 'zh' needs the CJK font of the 'mplfonts' package; "
                            "run 'make setup' (it is in requirements.txt)")
    path = Path(next(iter(spec.submodule_search_locations))) / "fonts" / CJK_FONT_FILE
    if not path.exists():
        raise LanguageError(f"{path} missing: reinstall mplfonts")
    return path


@contextmanager
def speaking(language: str) -> Iterator[None]:
    """Within the block, sentences (``text``, ``label``) are in ``language``; the previous
    language comes back after it. No fonts are touched: for code that writes text only (the
    report runner), not charts."""
    if language not in LANGUAGES:
        raise LanguageError(f"report_language must be one of {LANGUAGES}, got {language!r}")
    previous = _state["language"]
    _state["language"] = language
    try:
        yield
    finally:
        _state["language"] = previous


def use(language: str) -> str:
    """Set the report language for this process ('en' or 'zh'); returns it.

    For 'zh' the CJK font is registered with matplotlib and put first in its sans-serif list
    (``apply_fonts`` re-applies it after a seaborn theme resets the fonts)."""
    if language not in LANGUAGES:
        raise LanguageError(f"report_language must be one of {LANGUAGES}, got {language!r}")
    _state["language"] = language
    if language == "zh":
        from matplotlib import font_manager

        path = cjk_font_path()
        if CJK_FONT_NAME not in {f.name for f in font_manager.fontManager.ttflist}:
            font_manager.fontManager.addfont(str(path))
    apply_fonts()
    return language


def language() -> str:
    """The current report language."""
    return _state["language"]


def apply_fonts() -> None:
    """Put the CJK font first for matplotlib when the language is Chinese (call after
    ``seaborn.set_theme``, which resets the font list)."""
    import matplotlib as mpl

    if _state["language"] == "zh":
        families = [f for f in mpl.rcParams["font.sans-serif"] if f != CJK_FONT_NAME]
        mpl.rcParams["font.sans-serif"] = [CJK_FONT_NAME, *families]
        mpl.rcParams["font.family"] = ["sans-serif"]
        mpl.rcParams["axes.unicode_minus"] = False  # the CJK font has no U+2212 minus


def text(en: str, zh: str) -> str:
    """``en`` or ``zh``, by the current language (both are complete sentences or labels)."""
    return zh if _state["language"] == "zh" else en


# Labels shared by charts and tables (English key -> Chinese).
LABELS_ZH: dict[str, str] = {
    "behaviour": "购买行为", "attitude": "态度", "retention": "留存", "price": "价格敏感度",
    "price sensitivity": "价格敏感度",
    "active": "活跃（近 12 个月有购买）", "orders_per_year": "每年购买次数", "naive": "朴素估计",
    "row": "行号", "record": "原始记录",
    "baseline: any order of these customers": "基准：这些客户的任意一单",
    "orders": "订单数", "buyers": "购买客户数", "revenue": "销售额", "repeat rate": "复购率",
    "complaints per order": "每单投诉数", "all regions": "全部区域",
    "regular": "普通", "silver": "白银", "gold": "黄金", "diamond": "钻石", "inactive": "不活跃",
    # the reference company's regions (the legacy system's own Chinese names)
    "Northeast": "东北", "Northwest": "西北", "Southeast": "东南", "Southwest": "西南",
    "Central": "华中", "Metro": "都会", "all": "全部区域",
    # table columns
    "count": "客户数", "25%": "下四分位数", "50%": "中位数", "75%": "上四分位数",
    "small_group": "样本较少", "customers": "客户数", "share_of_customers": "客户占比",
    "share_of_value": "价值占比", "median_index": "指数中位数", "spearman": "秩相关系数",
    "top_decile_kept": "前 10% 仍在前 10% 的比例", "indicator": "指标", "region": "区域",
    "month": "月份", "value": "数值", "expected": "预期值", "change": "变化", "z": "z 值",
    "p_value": "p 值", "since": "起始月份", "kind": "类型", "denominator": "分母",
    "tier": "等级", "tier before": "一年前等级", "tier after": "当前等级",
    # the reference company's product categories (the legacy system's Chinese names)
    "Furniture": "家具", "Ceramics": "陶瓷", "Jewellery": "珠宝", "Paintings": "字画",
    "Coins & Stamps": "钱币邮票", "Clocks": "钟表", "All products": "全部商品",
    # loyalty measures
    "expected_value": "预期价值", "purchases_per_year": "年购买次数", "categories": "品类数",
    "recommend": "推荐意愿", "churn_risk": "流失风险",
    # reasons rows are set aside in the cleaning
    "missing customer_id": "缺少客户编号", "zero or missing quantity": "数量为零或缺失",
    "invalid order_date": "订单日期无效", "invalid price": "价格无效",
    "unknown line_type": "明细类型未知", "unknown category or region": "品类或区域未知",
    "unknown region": "区域未知", "conflicting duplicate id": "编号重复但内容不同",
    "conflicting duplicate line": "明细重复但内容不同", "unknown customer_id": "客户编号不存在",
    "invalid join_date": "注册日期无效", "invalid event": "事件无效",
    "invalid complaint": "投诉记录无效", "invalid referral": "推荐记录无效",
    "invalid invitation": "问卷邀请无效", "unknown invitation": "问卷邀请不存在",
    "second answer": "重复作答", "invalid price change": "调价记录无效",
    "invalid index row": "价格指数记录无效", "incomplete mapping": "编号对照不完整",
    "ambiguous legacy number": "旧会员号对应多个客户",
    # statistics and table columns of the notebooks
    "successes": "次数", "trials": "样本数", "rate": "比率", "ci_low": "区间下限",
    "ci_high": "区间上限", "n": "人数", "n_effective": "有效样本量", "score": "得分",
    "promoters": "推荐者", "passives": "中立者", "detractors": "贬损者",
    "promoter": "推荐者", "passive": "中立者", "detractor": "贬损者",
    "respondents": "作答者", "non_respondents": "未作答者", "difference": "差异",
    "mean": "均值", "share": "占比", "rows": "行数", "rows_read": "读取行数",
    "duplicates_removed": "删除的重复行", "excluded": "排除", "quarantined": "留待复核",
    "rows_clean": "清洗后行数", "share_kept": "保留比例", "source": "来源", "rule": "规则",
    "action": "操作", "rows_in": "输入行数", "rows_affected": "影响行数", "rows_out": "输出行数",
    "detail": "说明", "reason": "原因", "table": "表", "origin": "来源",
    "columns": "列数", "first_date": "最早日期", "last_date": "最晚日期",
    "topic": "主题", "legacy system": "旧系统", "current system": "现行系统",
    "unified definition": "统一口径", "applied in": "执行步骤", "lines changed": "修改的明细数",
    "flagged": "发现", "repaired": "修复", "estimated": "估算", "what happens": "处理方式",
    "category": "品类", "revenue_lower": "销售额下限", "revenue_upper": "销售额上限",
    "row_key": "行键", "column": "列", "original_value": "原值", "new_value": "新值",
    "method": "方法", "confidence": "置信度", "lower": "下限", "upper": "上限",
    "repeat_rate": "复购率", "purchases_per_customer": "人均购买次数",
    "spend_per_customer": "人均消费额", "order_value": "客单价", "return_rate": "退货率",
    "return_share": "退货占比",
    "estimated_share": "估算占比", "cross_purchase_rate": "跨品类购买率",
    "months_in_data": "数据月数", "recency_days": "距最近购买天数", "frequency": "频率",
    "monetary": "金额", "silhouette": "轮廓系数", "years_buying": "购买年数",
    "expected_purchases": "预期购买次数", "expected_revenue": "预期销售额",
    "share_of_revenue": "销售额占比", "mean_p_alive": "平均存活概率", "value_tier": "价值等级",
    "top 5%": "前 5%", "next 15%": "其后 15%", "next 30%": "其后 30%", "other 50%": "其余 50%",
    "no value estimate": "无价值估计",
    "champions": "冠军客户", "loyal": "忠诚客户", "needs attention": "需要关注",
    "at risk": "流失风险客户", "hibernating": "休眠客户", "new or occasional": "新客户或偶尔购买",
    "repeat_gaps": "回购间隔数", "median_days": "中位天数", "p75_days": "第 75 百分位天数",
    "p90_days": "第 90 百分位天数", "cycle_days": "周期天数", "satisfaction": "满意度",
    "follow us": "关注我们", "came to an event": "参加过活动", "follows": "关注",
    "does not follow": "未关注", "never came to an event": "未参加活动", "events": "活动",
    "group": "大类", "group definition": "大类定义", "definition": "定义",
    "odds_ratio_per_sd": "每个标准差的优势比", "meaning": "含义", "mean_risk": "平均风险",
    "expected_churners": "预计流失人数", "high_risk_customers": "高风险客户数",
    "elasticity": "弹性", "std_error": "标准误", "cells": "单元数", "units": "销量",
    "products": "商品数", "adjusted": "调整后", "adjusted_low": "调整后下限",
    "adjusted_high": "调整后上限", "naive_low": "朴素下限", "naive_high": "朴素上限",
    "direction": "方向", "increase": "涨价", "decrease": "降价", "price_change": "价格变化",
    "relative_price_change": "相对价格变化", "units_change_naive": "销量变化（朴素）",
    "units_change_did": "销量变化（双重差分）", "did_low": "双重差分下限",
    "did_high": "双重差分上限", "buyers_change": "购买客户数变化",
    "line_value_change": "明细金额变化", "series": "序列数",
    "series_with_price_changes": "有调价的序列数", "share_with_changes": "有调价的比例",
    "cells_in_changing_series": "调价序列中的单元数", "product_id": "商品", "period": "时期",
    "cooks_distance": "Cook 距离",
    "respondents, reversed answers corrected": "作答者（反向答卷已更正）",
    "respondents, reversed-looking answers left out": "作答者（剔除疑似反向答卷）",
    "weighted to all invitees": "加权到全部受邀者",
    "refund": "退款", "damaged": "损坏", "not_as_described": "与描述不符",
    "delivery": "配送", "service": "服务", "other": "其他",
    "orders_current": "现行订单", "orders_legacy": "旧系统订单",
    "price_changes": "调价", "market_index": "市场价格指数", "survey_invitations": "问卷邀请",
    "survey_responses": "问卷答复", "referrals": "推荐", "engagement": "互动",
    "complaints": "投诉", "customer_id_map": "客户编号对照", "order_lines": "订单明细",
    "order_lines_unrepaired": "订单明细（未修复）",
    "year": "年份", "rfm_segment": "RFM 分群", "behaviour_segment": "行为分群",
    "segments": "分群数", "feature": "特征", "wave": "调查期次",
    # history repair: the unified definitions
    "order": "订单", "a bill (BILL_NO) with item lines": "一张单据（BILL_NO）及其明细",
    "an order (order_id) with lines": "一个订单（order_id）及其明细",
    "one order = one order_id; legacy bills become order ids 'L<BILL_NO>'":
        "一个订单 = 一个 order_id；旧系统单据成为订单编号 'L<BILL_NO>'",
    "01 cleaning": "01 数据清洗", "02 repair": "02 历史修复", "return": "退货",
    "a line with negative QTY on the original bill": "原单据上数量为负的明细",
    "a line with line_type='return'": "line_type='return' 的明细",
    "a return is a line with negative quantity and amount, is_return=True":
        "退货是数量和金额为负的明细，is_return=True",
    "currency unit": "金额单位", "fen (1/100), integers": "分（1/100），整数",
    "currency units with decimals": "元，带小数", "currency units": "元",
    "region naming": "区域名称", "Chinese area names (GBK)": "中文区域名（GBK）",
    "English names, free spelling": "英文名，拼写不统一",
    "six canonical English region names": "六个统一的英文区域名",
    "customer identity": "客户身份",
    "member number; some customers kept an old one": "会员号；部分客户仍用旧会员号",
    "CRM customer_id": "CRM 客户编号",
    "CRM customer_id; old member numbers mapped via customer_id_map":
        "CRM 客户编号；旧会员号经 customer_id_map 对应",
    "order date": "下单日期", "invoice date (the day after the order)": "开票日期（下单次日）",
    "an order counts on the day it was placed": "订单计入下单当天",
    # complaint taxonomy
    "product": "商品", "the item itself fell short": "商品本身有问题",
    "arrived broken, chipped or scratched": "到货时破损、缺口或划伤",
    "differs from its description or photos, or is not authentic": "与描述或照片不符，或非真品",
    "fulfilment": "履约",
    "getting the item or the money to the customer": "把商品或钱款交到客户手中",
    "late or missing delivery": "配送延迟或未送达", "refund or return not processed, or slow":
        "退款或退货未处理或处理缓慢",
    "commercial": "商务", "what the customer was charged": "向客户收取的费用",
    "price too high, wrong price charged, hidden fees": "价格过高、收错价格、隐性收费",
    "how staff dealt with the customer": "员工如何对待客户",
    "rude, unhelpful or unresponsive staff": "员工态度粗鲁、不帮忙或不回应",
    "unmapped": "未归类", "no keyword rule matched the label": "没有关键词规则匹配该标签",
    "left for review; extend the rules in cleaning.COMPLAINT_RULES":
        "留待复核；可扩充 cleaning.COMPLAINT_RULES 中的规则",
    # churn model features
    "days since the last purchase": "距最近一次购买的天数",
    "orders_3m": "近 3 个月购买次数", "purchases in the last 3 months": "近 3 个月的购买次数",
    "orders_12m": "近 12 个月购买次数", "purchases in the last 12 months": "近 12 个月的购买次数",
    "lifetime_pace": "长期购买节奏",
    "purchases per year since the first purchase in the data": "自数据中首次购买以来的年均购买次数",
    "frequency_change": "购买频率变化",
    "purchases in the last 3 months minus the customer's own 3-month average over the 12 months "
    "before": "近 3 个月购买次数减去该客户此前 12 个月的 3 个月平均",
    "spend_change": "消费变化",
    "log ratio of spend in the last 3 months to the own 3-month average before":
        "近 3 个月消费与自身此前 3 个月平均之比的对数",
    "tenure_years": "注册年数", "years since joining": "注册以来的年数",
    "categories bought in the last 12 months": "近 12 个月购买的品类数",
    "complaints_3m": "近 3 个月投诉数", "complaints in the last 3 months": "近 3 个月的投诉数",
    "complaints_before": "此前投诉数",
    "complaints in the 12 months before that": "此前 12 个月的投诉数",
    "engagement_6m": "近 6 个月互动", "follows and event visits in the last 6 months":
        "近 6 个月的关注和活动参与",
    "latest satisfaction answer (1-5), centred; 0 when never answered":
        "最近一次满意度答复（1-5），已中心化；从未作答为 0",
    "latest likelihood to recommend (0-10), centred; 0 when never answered":
        "最近一次推荐意愿（0-10），已中心化；从未作答为 0",
    "customers referred so far": "迄今推荐的客户数", "answered_survey": "答过问卷",
    "has ever answered a survey": "曾经答过问卷", "raises risk": "提高风险",
    "lowers risk": "降低风险", "unclear": "不明确",
    # history repair rules
    "duplicated legacy month": "旧系统月份重复导出",
    "invoice date -> order date": "开票日期 → 下单日期",
    "impossible date": "不可能的日期", "unit slip x100": "单位录错（x100）",
    "quantity contradicts amount": "数量与金额矛盾",
    "amount outside price history": "金额超出历史价格",
    "small amount mismatch": "金额小幅不符", "missing price or amount": "缺少价格或金额",
    "missing region-month": "缺失的区域-月份",
    "lines repeating earlier lines under new bill numbers, month-wise: removed":
        "以新单号重复先前明细的整月数据：删除",
    "old member numbers mapped to CRM ids": "旧会员号对应到 CRM 编号",
    "legacy dates moved to the order day": "旧系统日期移到下单日",
    "outside the period the system was in use": "超出系统使用期间",
    "money keyed in fen instead of currency units": "金额按分而非按元录入",
    "quantity re-derived from amount and price": "由金额和价格重新推算数量",
    "amount re-derived from quantity and price": "由数量和价格重新推算金额",
    "flagged only: within the price history": "仅标注：在历史价格范围内",
    "completed exactly, or estimated from the list price": "精确补全，或按标价估算",
    "whole region-months estimated per category by the seasonal model":
        "整月缺失的区域按品类由季节模型估算",
    "Share of revenue resting on estimates, by region and year":
        "基于估算的销售额占比（按区域和年份）",
    # alert kinds
    "abnormal": "异常波动", "threshold (max)": "超出上限", "threshold (min)": "低于下限",
}


def values(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """``frame`` with the values of ``columns`` (names such as indicators, regions, tiers, and
    the cleaning and repair steps' rule texts) in the report language."""
    if _state["language"] != "zh":
        return frame
    return frame.assign(**{c: frame[c].astype("str").map(data_text) for c in columns})


# What the cleaning (quality report, data sources) and the history repair (repair log) write
# in their tables, in Chinese: the tables keep English (data), the Chinese pages show this.
DATA_ZH: dict[str, str] = {
    # actions
    "changed": "已修改", "checked": "已检查", "removed": "已删除",
    # rules (the others are in LABELS_ZH)
    "channel case": "渠道大小写", "city spelling": "城市拼写", "contract check": "数据约定校验",
    "customer exists": "客户存在性", "exact duplicate rows": "完全重复的行",
    "fen to currency units": "分转换为元", "join_date format": "注册日期格式",
    "joined to invitations": "与邀请合并", "kind labels": "互动类型标签",
    "label to taxonomy": "标签归入分类体系", "legacy labels translated": "旧系统标签转换",
    "read": "读取", "region spelling": "区域拼写", "returns signed": "退货取负",
    "score out of range": "分数超出量表", "severity unknown": "严重程度未知",
    # details
    "BILL_NO + ITEM_SEQ seen before with other data": "BILL_NO + ITEM_SEQ 已出现过但内容不同",
    "Chinese category/region names mapped": "中文品类/区域名称已映射",
    "PRICE/LIST/AMOUNT_FEN divided by 100": "PRICE/LIST/AMOUNT_FEN 除以 100",
    "a line with no quantity is not a sale or a return": "没有数量的明细既不是销售也不是退货",
    "answer to an invitation that was never sent": "答复对应的邀请从未发出",
    "bad date or complaint_id repeated with other content": "日期错误，或投诉编号重复且内容不同",
    "bad date or customer referring themselves": "日期错误，或客户推荐了自己",
    "bad date or missing customer": "日期错误或缺少客户",
    "case, spaces and punctuation variants unified": "统一大小写、空格和标点的写法",
    "category or region spelling not in the alias tables": "品类或区域写法不在别名表中",
    "customer_id seen before with different details; first one kept":
        "客户编号已出现过但信息不同；保留第一条",
    "free-form labels mapped to categories by keyword rules": "自由填写的标签按关键词规则归类",
    "identical to an earlier row in every column; the first copy is kept":
        "每一列都与前面某行相同；保留第一条",
    "invitation answered twice; first answer kept": "同一邀请作答两次；保留第一次",
    "join_date not a valid date": "注册日期不是有效日期",
    "legacy label not in the alias tables": "旧系统标签不在别名表中",
    "legacy number or customer_id missing or malformed": "旧会员号或客户编号缺失或格式错误",
    "line_type is neither 'sale' nor 'return'": "明细类型既不是 'sale' 也不是 'return'",
    "lower-cased": "转为小写", "missing customer or bad sent_date": "缺少客户或发送日期错误",
    "no customer id: the row cannot be linked to anything": "没有客户编号：无法关联到任何记录",
    "not a valid calendar date": "不是有效的日历日期",
    "order line without customer: cannot be attributed (e.g. staff test order)":
        "没有客户的订单明细：无法归属（例如员工测试订单）",
    "order_id + line_no seen before with other data": "order_id + line_no 已出现过但内容不同",
    "price missing, non-numeric or negative": "价格缺失、非数字或为负",
    "region spelling not in the alias table": "区域写法不在别名表中",
    "return lines get negative quantity and amount (contract convention)":
        "退货明细的数量和金额取负（数据约定）",
    "rows read from the raw file": "从原始文件读取的行",
    "rows whose customer is not in the customer table": "客户不在客户表中的行",
    "score outside its scale set to missing, flagged out_of_range":
        "超出量表的分数设为缺失，并标记为 out_of_range",
    "severity left missing": "严重程度留空",
    "spelling variants mapped to canonical region names": "不同写法映射到标准区域名称",
    "the same legacy number is mapped to more than one customer": "同一旧会员号对应多个客户",
    "unknown category/region, bad month or non-positive index": "未知品类/区域、月份错误或指数非正",
    "unknown region, bad date or non-positive price": "未知区域、日期错误或价格非正",
    "yyyy/mm/dd dates converted": "yyyy/mm/dd 格式的日期已转换",
    # repair methods and reasons (parts of "; " and " + " joined texts)
    "corrected: amount = quantity x unit price": "已更正：金额 = 数量 × 单价",
    "corrected: divided by 100": "已更正：除以 100",
    "corrected: quantity = amount / unit price": "已更正：数量 = 金额 / 单价",
    "definition: id crosswalk": "口径统一：编号对照",
    "removed: duplicated export": "已删除：重复导出",
    "definition: invoice date -> order date": "口径统一：开票日期 → 下单日期",
    "date of the bill's other lines": "同一账单其他明细的日期",
    "date of the neighbouring bills": "相邻账单的日期",
    "estimated: earlier of the neighbouring bills' dates": "估算：相邻账单日期中较早者",
    "amount is not quantity x unit price, but is a whole number of units at the unit price: "
    "the quantity was keyed wrong": "金额不等于数量 × 单价，但恰为单价的整数倍：数量录入有误",
    "impossible date: outside the period the system was in use": "不可能的日期：超出该系统的使用期",
    "the legacy system knew this customer under an old member number; the CRM migration table "
    "maps it to the customer's id": "旧系统以旧会员号记录该客户；CRM 迁移表将其对应到客户编号",
    "(line)": "（整行）", "amount": "金额", "customer_id": "客户编号", "order_date": "下单日期",
    "quantity": "数量", "unit_price": "单价", "list_price": "标价",
}

DATA_PATTERNS_ZH: list[tuple[str, str]] = [
    (r"([\d,]+) answers matched to invitations", "{0} 份答复与邀请匹配"),
    (r"validated against the '(.+)' contract schema", "按数据约定中 '{0}' 的结构校验"),
    (r"files? (.+)", "文件 {0}"),
    (r"estimated: list price x \(1 - mean discount ([\d.]+%)\)",
     "估算：标价 ×（1 - 平均折扣 {0}）"),
    (r"the legacy system dated a bill when it was invoiced, (\d+) day\(s\) after the order",
     "旧系统按开票日期记账，比下单晚 {0} 天"),
    (r"amount per unit is more than ([\d.]+) times away from the product's usual price and "
     r"contradicts quantity x unit price",
     "单位金额与该商品的常规价格相差 {0} 倍以上，且与数量 × 单价矛盾"),
    (r"the line repeats an earlier line under a new bill number, and at least ([\d.]+%) of its "
     r"region-month does: the month was exported twice",
     "该明细以新账单号重复了先前的明细，且其区域-月份中至少 {0} 的明细如此：该月被导出了两次"),
    (r"unit price and amount missing; the list price and the discounts of legacy-system lines "
     r"give the estimate and its ([\d.]+%) range",
     "单价和金额缺失；由标价和旧系统明细的折扣给出估算值及其 {0} 区间"),
    (r"value is ([\d.]+)-([\d.]+) times the product's usual price in the region: keyed in fen "
     r"instead of currency units", "数值是该商品在该区域常规价格的 {0}-{1} 倍：按分而非元录入"),
]


def data_text(value: str) -> str:
    """A label, rule, detail, method or reason text of the workbook's tables in Chinese
    (``LABELS_ZH``, ``DATA_ZH``, ``DATA_PATTERNS_ZH``; texts joined with "; " or " + " part by
    part); unchanged when unknown (e.g. the words of a company's own source mapping)."""
    import re

    if value in LABELS_ZH:
        return LABELS_ZH[value]
    if value in DATA_ZH:
        return DATA_ZH[value]
    for pattern, template in DATA_PATTERNS_ZH:
        found = re.fullmatch(pattern, value)
        if found:
            return template.format(*found.groups())
    for separator, joined in (("; ", "；"), (" + ", " + ")):
        if separator in value:
            return joined.join(data_text(part) for part in value.split(separator))
    return value


def label(name: str) -> str:
    """A chart or table label in the current language (unchanged when not translated)."""
    return LABELS_ZH.get(name, name) if _state["language"] == "zh" else name


def relabel(styler):
    """A pandas Styler with its column and row labels, index names and yes/no flags in the
    report language (formatting keyed on the original names keeps working; the caller's frame
    is not changed). Returns the Styler."""
    frame = styler.data
    if _state["language"] != "zh":
        return styler
    names = [label(str(n)) if n is not None else None for n in frame.index.names]
    renamed = frame  # a renamed copy: the caller's frame keeps its names
    if any(n is not None for n in names):
        renamed = renamed.rename_axis(index=names if len(names) > 1 else names[0])
    if frame.columns.name is not None and not isinstance(frame.columns, pd.MultiIndex):
        renamed = renamed.rename_axis(columns=label(str(frame.columns.name)))
    if renamed is not frame:
        styler.data, styler.index, styler.columns = renamed, renamed.index, renamed.columns
    flags = [c for c in frame.columns if pd.api.types.is_bool_dtype(frame[c])]
    if flags:
        # subset: a formatter dict without it resets every other column to the default format
        styler = styler.format({c: lambda v: "是" if v else "否" for c in flags}, subset=flags)
    if not isinstance(frame.columns, pd.MultiIndex):
        styler = styler.relabel_index([label(str(c)) for c in frame.columns], axis="columns")
    if not isinstance(frame.index, pd.MultiIndex):
        styler = styler.relabel_index([label(str(i)) for i in frame.index], axis="index")
    return styler


EMBEDDED_FAMILY = "Loyalty CJK"


def embedded_font_css(page: str) -> str:
    """A ``<style>`` block that embeds the CJK font, cut down to the characters ``page`` uses
    (a WOFF subset of Noto Sans CJK SC, typically under 100 KB), and makes it the page's font:
    the report then reads the same on any machine, with or without Chinese fonts."""
    import base64
    import io as bytes_io

    from fontTools import subset

    characters = {ord(c) for c in page if ord(c) > 127} | {ord(c) for c in "0123456789%,.-+"}
    options = subset.Options()
    options.flavor = "woff"
    options.layout_features = ["*"]
    options.notdef_outline = True
    font = subset.load_font(str(cjk_font_path()), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(characters))
    subsetter.subset(font)
    buffer = bytes_io.BytesIO()
    subset.save_font(font, buffer, options)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    family = (f'"{EMBEDDED_FAMILY}", -apple-system, "Segoe UI", Helvetica, Arial, '
              '"Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif')
    return (f'<style>@font-face {{ font-family: "{EMBEDDED_FAMILY}"; '
            f'src: url(data:font/woff;base64,{data}) format("woff"); }}\n'
            f":root {{ --jp-content-font-family: {family}; --jp-ui-font-family: {family}; }}\n"
            f"body, table, th, td {{ font-family: {family}; }}</style>")


def with_embedded_font(page: str) -> str:
    """``page`` (an HTML document) with ``embedded_font_css`` inserted before ``</head>``."""
    return page.replace("</head>", embedded_font_css(page) + "\n</head>", 1)


# Fixed chart text (English -> Chinese); ``phrase`` falls back to ``LABELS_ZH``.
PHRASES_ZH: dict[str, str] = {
    # 01 cleaning
    "rows in the raw file": "原始文件行数",
    "What happened to every raw row": "每一行原始数据的去向",
    "rows not kept (zoomed)": "未保留的行（放大）",
    "Removed, excluded or set aside": "删除、排除或留待复核",
    "Removed or set aside": "删除或留待复核", "kept": "保留", "duplicates removed": "删除的重复行",
    "excluded": "排除", "quarantined": "留待复核", "current system": "现行系统",
    "legacy system": "旧系统", "sale lines per month": "每月销售明细数",
    "One order history from two systems": "合并两个系统的订单历史",
    # 02 history repair
    "corrected or removed": "更正或删除", "estimated": "估算",
    "lines affected (log scale; region-months for the last rule)":
        "受影响的明细数（对数刻度；最后一条规则为区域-月份数）",
    "What the history repair did, by rule": "历史数据修复的各项规则及影响",
    "as delivered": "原始交付", "as delivered, off scale": "原始交付（超出刻度）",
    "repaired": "修复后", "estimated month (interval)": "估算月份（区间）",
    "revenue (thousands)": "销售额（千）",
    "Monthly revenue per region, before and after the repair": "各区域月销售额：修复前后",
    # 03 behaviour
    "Repeat-purchase rate by category": "各品类复购率",
    "buyers with two or more purchases in the category": "在该品类购买两次及以上的客户比例",
    "Order value by category": "各品类客单价", "mean order value (sale lines in the category)":
        "平均客单价（该品类的销售明细）",
    # 04 attitude
    "Net recommendation score, three ways": "净推荐值：三种估计",
    "net recommendation score (points)": "净推荐值（分）",
    "Actual referrals by recommendation group": "各推荐组的实际推荐",
    "referred someone within a year of the survey": "调查后一年内推荐过他人",
    "Repeat purchase by satisfaction (1-5)": "按满意度（1-5）的复购",
    "How often connected customers buy": "有情感联系的客户购买频率",
    "purchases per year": "年购买次数", "Response rate by region": "各区域作答率",
    "answered the survey": "答了问卷", "Repurchase after a complaint, by category":
        "投诉后的回购（按类别）",
    "respondents": "作答者", "respondents, reversed answers corrected": "作答者（反向答卷已更正）",
    "weighted to all invitees": "加权到全部受邀者",
    # 05 retention
    "Retention by category": "各品类留存", "Retention by category and region": "各品类和区域的留存",
    "retained within one cycle": "一个周期内留存",
    "How long customers take to buy again, by category": "客户多久再次购买（按品类）",
    "days between a customer's consecutive purchases in the category":
        "客户在该品类中相邻两次购买的间隔天数",
    "consumption cycle (75th percentile)": "消费周期（第 75 百分位）",
    "cohort (quarter of first purchase)": "群组（首次购买季度）",
    "periods since first purchase": "首次购买后的期数",
    "quarters since first purchase": "首次购买后的季度数",
    "Cohort retention (hatched: not observable yet; * lost months in that quarter)":
        "群组留存（阴影：尚无法观察；*：该季度有丢失的月份）",
    "odds ratio of churning per standard deviation (log scale; 1 = no effect)":
        "每个标准差的流失优势比（对数刻度；1 = 无影响）",
    "What drives churn risk (red raises, blue lowers, grey unclear)":
        "流失风险的驱动因素（红：提高；蓝：降低；灰：不明确）",
    "perfect calibration": "完美校准", "risk decile": "风险十分位",
    "predicted churn (mean of the decile)": "预测流失率（十分位均值）",
    "observed churn": "实际流失率", "Calibration on the test snapshot": "检验快照上的校准",
    "all customers": "全部客户", "risk decile (10 = riskiest)": "风险十分位（10 = 风险最高）",
    "Churn by risk decile": "各风险十分位的流失率",
    # 06 price sensitivity
    "product in the region of the change": "调价区域的该商品",
    "same product, other regions": "其他区域的同一商品", "price increases": "涨价",
    "price decreases": "降价", "months from the change": "距调价的月数",
    "log units, relative to the month before": "对数销量（相对调价前一个月）",
    "Price response by region: naive vs market-adjusted": "各区域的价格反应：朴素估计与市场调整",
    "price elasticity around price changes (log units per log price)":
        "调价前后的价格弹性（对数销量 / 对数价格）",
    "naive": "朴素估计", "market-adjusted": "市场调整",
    "Is the more loyal customer less price-sensitive?": "越忠诚的客户越不在乎价格吗？",
    "Spearman correlation with the price-sensitivity score": "与价格敏感度得分的 Spearman 相关",
    # 07 regression
    "Price elasticity by region": "各区域的价格弹性",
    "price elasticity of units sold": "销量的价格弹性",
    "market-adjusted, period effects": "市场调整，含时期效应", "period effects": "含时期效应",
    "naive: raw price, seasons only": "朴素估计：原始价格，仅季节效应",
    "fitted (after the fixed effects)": "拟合值（剔除固定效应后）", "residual": "残差",
    "Residuals against fitted values": "残差与拟合值", "residual (log units)": "残差（对数单位）",
    "Distribution of residuals": "残差分布",
}


def phrase(english: str) -> str:
    """Chart text in the current language: ``PHRASES_ZH``, else ``LABELS_ZH``, else as given."""
    if _state["language"] != "zh":
        return english
    return PHRASES_ZH.get(english, LABELS_ZH.get(english, english))
