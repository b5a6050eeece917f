#!/usr/bin/python3
"""A school's safeguarding lead and a Portsmouth MASH practitioner use their
connectors' pages in headless Chromium (Debian's chromium, chromium-driver and
python3-selenium), by keyboard only: the lead composes a referral, sees a
finding, fixes it and sends; MASH sees it arrive without reloading, opens it,
acknowledges it and sends an outcome; the school sees the outcome. A refused
share shows its reason and a held one "Waiting for IG advice"; the lead opens
an Operation Encompass notification from the police and acknowledges it
before the school day. axe-core runs
on every page (no WCAG 2.2 A or AA violation) and every page is saved as a
screenshot in --out.

Started by tests/e2e/connector_e2e_test.cc with two running connectors.
Exit 0 when every step held; otherwise the step that failed is printed.
"""
import argparse
import os
import sys
import tempfile
import time

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.common.exceptions import WebDriverException

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


class Browser:
    def __init__(self, name, base, out, axe_source):
        self.name, self.base, self.out, self.axe = name, base, out, axe_source
        opts = Options()
        opts.binary_location = "/usr/bin/chromium"
        self.profile = tempfile.mkdtemp(prefix="safeshare-chromium-")
        for a in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-quic",
                  "--window-size=1280,1800", "--user-data-dir=" + self.profile]:
            opts.add_argument(a)
        self.d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
        self.d.set_script_timeout(30)
        self.pages = 0

    def close(self):
        self.d.quit()

    def go(self, path):
        self.d.get(self.base + path)

    def wait(self, condition, what, seconds=30):
        """Until `condition` holds; a page still loading (a stale element,
        say) counts as not yet."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                if condition():
                    return
            except WebDriverException:
                pass
            time.sleep(0.2)
        self.shot("FAILED")
        raise AssertionError(f"{self.name}: {what} (url {self.d.current_url})")

    def text(self):
        return self.d.find_element(By.TAG_NAME, "body").text

    def shot(self, label):
        self.pages += 1
        path = os.path.join(self.out, f"{self.name}-{self.pages:02d}-{label}.png")
        # The whole page, not only the part in view (measured at the usual size,
        # or a short page would keep the last tall one's height).
        self.d.set_window_size(1280, 900)
        height = self.d.execute_script("return document.documentElement.scrollHeight")
        self.d.set_window_size(1280, max(900, min(int(height) + 140, 8000)))
        self.d.save_screenshot(path)
        return path

    def page(self, label):
        """A page as a person sees it: screenshot, then axe-core on it."""
        self.shot(label)
        self.d.execute_script(self.axe)
        result = self.d.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}})"
            ".then(r => done(r.violations.map(v => v.id + ': ' + v.help + ' (' +"
            " v.nodes.map(n => n.target.join(' ')).join(', ') + ')')))"
            ".catch(e => done(['axe failed: ' + e]));", AXE_TAGS)
        if result:
            raise AssertionError(f"{self.name} {label}: axe-core found\n  " + "\n  ".join(result))

    # Keyboard only: each control is focused and operated by key presses.
    def el(self, css):
        return self.d.find_element(By.CSS_SELECTOR, css)

    def type(self, name, text):
        e = self.el(f'[name="{name}"]')
        e.send_keys(Keys.CONTROL, "a")
        e.send_keys(Keys.DELETE)
        e.send_keys(text)

    def choose(self, name, value):
        """A select's option, typed as the person reads it."""
        e = self.el(f'select[name="{name}"]')
        label = self.d.execute_script(
            "return [...arguments[0].options].find(o => o.value === arguments[1]).text;", e, value)
        e.send_keys(label)
        if e.get_attribute("value") != value:
            raise AssertionError(f"{self.name}: typing '{label}' did not choose {value}")

    def radio(self, name, value):
        self.el(f'input[name="{name}"][value="{value}"]').send_keys(Keys.SPACE)

    def tick(self, name, value, on=True):
        e = self.el(f'input[name="{name}"][value="{value}"]')
        if e.is_selected() != on:
            e.send_keys(Keys.SPACE)

    def press(self, css):
        self.el(css).send_keys(Keys.ENTER)


def fill_school_referral(b):
    b.choose("recipient_agency_id", "portsmouth-mash")
    b.choose("declaration.purpose", "PURPOSE_SAFEGUARDING_REFERRAL")
    for c in ["IDENTITY", "CONTACT_DETAILS", "CONCERN_DETAILS", "EDUCATION", "CHILDS_VOICE",
              "HEALTH", "CRIMINAL_OFFENCE"]:
        b.tick("declaration.data_categories", "DATA_CATEGORY_" + c)
    b.radio("declaration.lawful_basis", "LAWFUL_BASIS_PUBLIC_TASK")
    b.choose("declaration.special_category_condition",
             "SPECIAL_CATEGORY_CONDITION_SAFEGUARDING_SCH1_PARA18")
    b.choose("declaration.criminal_offence_condition",
             "CRIMINAL_OFFENCE_CONDITION_SAFEGUARDING_SCH1_PARA18")
    b.choose("declaration.statutory_gateway", "STATUTORY_GATEWAY_CHILDREN_ACT_2004_S11")
    b.radio("declaration.consent_status", "CONSENT_STATUS_GIVEN")
    b.type("declaration.consent_rationale", "Parent agreed to the referral at a meeting with the DSL.")
    b.radio("declaration.informed", "yes")
    b.choose("declaration.threshold_level", "THRESHOLD_LEVEL_3_TARGETED_EARLY_HELP")
    b.radio("declaration.urgency", "URGENCY_STANDARD")
    b.tick("declaration.concern_categories", "CONCERN_CATEGORY_NEGLECT")
    b.radio("declaration.advice_status", "ADVICE_STATUS_NOT_SOUGHT")
    b.type("declaration.necessity_justification",
           "Persistent absence and weight loss noticed by staff; the front door needs "
           "attendance and welfare notes to judge the threshold.")
    b.type("child.given_names", "Noah")
    b.type("child.family_name", "Specimen")
    b.type("child.date_of_birth", "2015-09-02")
    b.type("record.concern_details", "Persistent absence and visible weight loss this term.")
    b.type("record.childs_voice", "Told his teacher there is often no food at home.")
    b.type("record.education", "Attendance 71% this term.")
    b.type("record.health", "School nurse recorded weight below the 2nd centile.")
    b.type("record.address", "7 Placeholder Street, Fratton")


def decision(b):
    return b.el("#decision").text


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--school", required=True)
    ap.add_argument("--mash", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--axe", required=True)
    ap.add_argument("--encompass", required=True,
                    help="the id of an Operation Encompass notification sent to the school")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    axe = open(args.axe).read()
    school = Browser("school", args.school, args.out, axe)
    mash = Browser("mash", args.mash, args.out, axe)
    try:
        # MASH's practitioner has the inbox open before anything is sent.
        mash.go("/inbox")
        mash.wait(lambda: "Nothing has arrived yet" in mash.text(), "an empty inbox")
        mash.page("inbox-empty")

        # The lead composes; the findings follow the form without a submit.
        school.go("/compose")
        school.page("compose-empty")
        fill_school_referral(school)
        school.wait(lambda: "Cannot be shared" in decision(school),
                    "criminal offence data to MASH is refused live")
        reason = school.el('.safeshare-finding[data-check="necessity_proportionality"]').text
        if "Not met" not in reason:
            raise AssertionError("the necessity finding is not shown as not met: " + reason)
        school.page("compose-finding")
        # An invalid NHS number is caught before anything is sent.
        school.type("child.nhs_number", "943 476 5918")
        school.press("button[value=send]")
        school.wait(lambda: "There is a problem" in school.text(), "the NHS number error")
        school.page("compose-nhs-error")
        school.type("child.nhs_number", "943 476 5919")
        # The fix: only what the agreement allows.
        school.tick("declaration.data_categories", "DATA_CATEGORY_CRIMINAL_OFFENCE", on=False)
        school.choose("declaration.criminal_offence_condition", "")
        school.wait(lambda: "Can be shared" in decision(school), "the fixed draft passes")
        school.page("compose-fixed")
        # Tab from the last field reaches Send: the form completes by keyboard.
        school.el('[name="record.social_care_history"]').send_keys(Keys.TAB)
        focused = school.d.switch_to.active_element
        if focused.get_attribute("value") != "send":
            raise AssertionError("Tab from the last field does not reach Send")
        focused.send_keys(Keys.ENTER)
        school.wait(lambda: "/sent/" in school.d.current_url, "the sent page after sending")
        school.wait(lambda: "Waiting for the recipient" in school.text() or
                    "Delivered" in school.text(), "the referral accepted")
        if "Verified: the decision is in the partnership's signed audit log" not in school.text():
            raise AssertionError("the receipt is not shown as verified")
        school.page("sent-referral")
        referral_id = school.d.current_url.rsplit("/", 1)[1]

        # MASH sees it arrive without reloading.
        mash.wait(lambda: referral_id in mash.text(), "the referral appears in the open inbox", 30)
        mash.page("inbox-new")
        mash.press(f'a[href="/inbox/{referral_id}"]')
        mash.wait(lambda: "Noah Specimen" in mash.text(), "the opened referral")
        mash.page("message")
        mash.press("form[action$='/acknowledge'] button")
        mash.wait(lambda: "mash-pc-4" in mash.text() and
                  not mash.d.find_elements(By.CSS_SELECTOR, "form[action$='/acknowledge']"),
                  "the acknowledgement, by this practitioner")
        mash.page("message-acknowledged")
        mash.press("a[href*='kind=MESSAGE_KIND_OUTCOME']")
        mash.wait(lambda: "Outcome of a referral" in mash.text(), "the outcome form")
        mash.choose("declaration.outcome_decision", "OUTCOME_DECISION_EARLY_HELP")
        mash.tick("declaration.data_categories", "DATA_CATEGORY_IDENTITY")
        mash.radio("declaration.lawful_basis", "LAWFUL_BASIS_PUBLIC_TASK")
        mash.choose("declaration.statutory_gateway", "STATUTORY_GATEWAY_CHILDREN_ACT_2004_S11")
        mash.radio("declaration.consent_status", "CONSENT_STATUS_GIVEN")
        mash.radio("declaration.informed", "yes")
        mash.choose("declaration.threshold_level", "THRESHOLD_LEVEL_3_TARGETED_EARLY_HELP")
        mash.radio("declaration.urgency", "URGENCY_STANDARD")
        mash.radio("declaration.advice_status", "ADVICE_STATUS_NOT_SOUGHT")
        mash.type("declaration.necessity_justification",
                  "Tells the school what the front door decided so it can support the family.")
        mash.wait(lambda: "Can be shared" in decision(mash), "the outcome passes")
        mash.page("compose-outcome")
        mash.press("button[value=send]")
        mash.wait(lambda: "/sent/" in mash.d.current_url, "the outcome sent")
        mash.page("sent-outcome")

        # The school sees the outcome.
        school.go("/inbox")
        school.wait(lambda: "Outcome of a referral" in school.text(), "the outcome in the inbox", 30)
        school.page("inbox-outcome")
        school.go(f"/sent/{referral_id}")
        school.wait(lambda: "Outcome received" in school.text(), "the referral's outcome state")
        school.page("sent-outcome-received")

        # A refused share shows why; a held one says it waits for advice.
        school.go("/compose")
        fill_school_referral(school)
        school.tick("declaration.data_categories", "DATA_CATEGORY_FULL_CASE_RECORD")
        school.wait(lambda: "Cannot be shared" in decision(school), "the overshare refused live")
        school.press("button[value=send]")
        school.wait(lambda: "Refused" in school.text(), "the refusal shown")
        if "Not met" not in school.text():
            raise AssertionError("the refusal does not show the rule not met")
        school.page("sent-refused")

        school.go("/compose")
        fill_school_referral(school)
        school.tick("declaration.data_categories", "DATA_CATEGORY_CRIMINAL_OFFENCE", on=False)
        school.choose("declaration.criminal_offence_condition", "")
        school.radio("declaration.advice_status", "ADVICE_STATUS_REQUESTED")
        school.wait(lambda: "Needs IG advice first" in decision(school), "advice requested holds")
        school.press("button[value=send]")
        school.wait(lambda: "Waiting for IG advice" in school.text(), "the held share")
        school.page("sent-held")
        school.go("/sent")
        school.page("sent-list")

        # The police's Operation Encompass notification: what the lead needs
        # before the children arrive, and an acknowledgement by the deadline.
        school.go("/inbox")
        school.wait(lambda: "Operation Encompass notification" in school.text(),
                    "the notification in the inbox")
        school.page("inbox-encompass")
        school.press(f'a[href="/inbox/{args.encompass}"]')
        school.wait(lambda: "When the incident happened" in school.text(), "the notification")
        for words in ["3 Dec 2026, 19:30", "The child was", "Saw or heard the incident", "What the police did", "HIOW-44120412"]:
            if words not in school.text():
                raise AssertionError(f"the notification does not show '{words}'")
        school.page("message-encompass")
        school.press("form[action$='/acknowledge'] button")
        school.wait(lambda: not school.d.find_elements(By.CSS_SELECTOR,
                                                       "form[action$='/acknowledge']"),
                    "the notification acknowledged")
        school.page("message-encompass-acknowledged")
        print(f"journey passed: {school.pages + mash.pages} screenshots in {args.out}")
        return 0
    except AssertionError as e:
        print("journey failed:", e)
        return 1
    finally:
        school.close()
        mash.close()


if __name__ == "__main__":
    sys.exit(main())
