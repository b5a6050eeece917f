#!/usr/bin/python3
"""The partnership's data protection officer uses the IG console in headless
Chromium, by keyboard: approves a held referral, refuses another (after the
form asks for a reason), reads the flows (the chart's figures equal the
table's and the CLI's `audit report`), searches by a child's subject
reference, checks integrity and reads the monthly report. axe-core runs on
every page (no WCAG 2.2 A or AA violation); every page is saved as a
screenshot in --out.

Started by tests/e2e/console_e2e_test.cc with a running console.
Exit 0 when every step held; otherwise the step that failed is printed.
"""
import argparse
import json
import sys

from selenium.webdriver.common.by import By

from connector_journey import Browser


def cells(b, css):
    """{data-cell: number} of the elements matching css."""
    out = {}
    for e in b.d.find_elements(By.CSS_SELECTOR, css):
        out[e.get_attribute("data-cell")] = int(e.get_attribute("textContent").strip())
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--console", required=True)
    ap.add_argument("--report", required=True, help="safeshare audit report --json output")
    ap.add_argument("--out", required=True)
    ap.add_argument("--axe", required=True)
    args = ap.parse_args()
    import os
    os.makedirs(args.out, exist_ok=True)
    with open(args.axe) as f:
        axe = f.read()
    b = Browser("dpo", args.console, args.out, axe)
    try:
        b.go("/advice")
        b.wait(lambda: "pol-held" in b.text(), "the held shares listed")
        if "data-integrity=\"verified\"" not in b.d.page_source:
            raise AssertionError("the integrity banner is not green on a clean log")
        b.page("advice-queue")

        b.press('a[href="/advice/pol-held"]')
        b.wait(lambda: "Golden rules" in b.text(), "the held share opened")
        if "Declaration" not in b.text() or "Decide by" not in b.text():
            raise AssertionError("the held share does not show its declaration and deadline")
        b.page("advice-held")
        b.type("reason", "Necessary and proportionate: the s47 enquiry needs it now.")
        b.press("button[value=approve]")
        b.wait(lambda: "approved" in b.text(), "the approval confirmed")
        b.page("advice-approved")

        b.go("/advice/pol-held-2")
        b.press("button[value=refuse]")
        b.wait(lambda: "Enter the reason" in b.text(), "a reason asked for")
        b.page("advice-reason-missing")
        b.type("reason", "Not necessary: the front door already holds this.")
        b.press("button[value=refuse]")
        b.wait(lambda: "refused" in b.text(), "the refusal confirmed")
        if "pol-held-2" in b.el("table").text:
            raise AssertionError("a decided share is still in the queue")

        b.go("/flows")
        b.wait(lambda: "Between areas" in b.text(), "the flows page")
        chart = cells(b, "svg text[data-cell]")
        table = cells(b, "td[data-cell]")
        chart_areas = {k: v for k, v in chart.items() if k in table}
        with open(args.report) as f:
            report = json.load(f)
        cli = {}
        for flow in report.get("flows", []):
            total = sum(int(flow.get(k, 0)) for k in ("allowed", "denied", "held"))
            cli[flow["from_area_id"] + "|" + flow["to_area_id"]] = total
        area_table = {k: v for k, v in table.items() if k in cli}
        if not cli or chart_areas.get(next(iter(cli))) is None:
            raise AssertionError(f"no area flows to compare: chart {chart}, cli {cli}")
        for key, total in cli.items():
            if chart.get(key) != total or table.get(key) != total:
                raise AssertionError(
                    f"{key}: chart {chart.get(key)}, table {table.get(key)}, CLI {total}")
        # Every figure the bars draw equals the table's cell of the same name.
        for key, value in chart.items():
            if key in table and table[key] != value:
                raise AssertionError(f"{key}: chart {value}, table {table[key]}")
        if len(area_table) != len(cli):
            raise AssertionError(f"table {area_table} vs CLI {cli}")
        b.page("flows")

        b.go("/search")
        b.type("subject", "a" * 64)
        b.press("form button.govuk-button")
        b.wait(lambda: "found" in b.text(), "the search results")
        found = {e.get_attribute("data-message-id")
                 for e in b.d.find_elements(By.CSS_SELECTOR, "[data-message-id]")}
        if found != {"pol-1", "school-1"}:
            raise AssertionError(f"subject a…a found {found}")
        if "Verified" not in b.text():
            raise AssertionError("the records' inclusion proofs are not shown verified")
        b.page("search-subject")

        b.go("/integrity")
        b.wait(lambda: "Verify an export offline" in b.text(), "the integrity page")
        if "safeshare audit verify --export_file" not in b.text():
            raise AssertionError("the offline verification command is missing")
        b.page("integrity")

        b.go("/report")
        b.wait(lambda: "Partnership report" in b.text(), "the monthly report")
        for heading in ["Volumes", "Cross-border flows", "Refusal and hold reasons", "Timeliness"]:
            if heading not in b.text():
                raise AssertionError(f"the report has no {heading}")
        b.page("report")
        print(f"journey passed: {b.pages} screenshots in {args.out}")
        return 0
    except AssertionError as e:
        print("journey failed:", e)
        return 1
    finally:
        b.close()


if __name__ == "__main__":
    sys.exit(main())
