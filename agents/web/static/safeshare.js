// Progressive enhancement only: every page works without it.
import { initAll } from '/assets/govuk-frontend.min.js';

initAll();

// Compose: the golden-rules findings follow the form as it changes.
const form = document.getElementById('compose');
const findings = document.getElementById('findings');
if (form && findings) {
  let timer = null;
  let asked = 0;
  const check = () => {
    const body = new URLSearchParams(new FormData(form));
    const mine = ++asked;
    fetch(form.dataset.checkUrl, {
      method: 'POST',
      body,
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      credentials: 'same-origin',
    })
      .then((r) => (r.ok ? r.text() : null))
      .then((html) => {
        if (html !== null && mine === asked) findings.innerHTML = html;
      })
      .catch(() => {});
  };
  const soon = () => {
    clearTimeout(timer);
    timer = setTimeout(check, 300);
  };
  form.addEventListener('change', soon);
  form.addEventListener('input', soon);
}

// Inbox and sent pages: new mail and state changes appear without a reload.
const live = document.querySelector('[data-live]');
if (live && 'EventSource' in window) {
  const refresh = () => {
    fetch(window.location.href, { credentials: 'same-origin' })
      .then((r) => r.text())
      .then((html) => {
        const next = new DOMParser().parseFromString(html, 'text/html').querySelector('[data-live]');
        if (next) live.innerHTML = next.innerHTML;
      })
      .catch(() => {});
  };
  const events = new EventSource('/api/v1/events');
  ['message', 'sent', 'escalation'].forEach((type) => events.addEventListener(type, refresh));
}

// IG console's monthly report: a print button (the page prints well without it).
document.querySelectorAll('[data-print]').forEach((b) => b.addEventListener('click', () => window.print()));
