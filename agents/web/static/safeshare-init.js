// Runs first in <body> (the GOV.UK template's inline snippet, as a file so
// that the Content-Security-Policy needs no 'unsafe-inline').
document.body.className +=
  ' js-enabled' + ('noModule' in HTMLScriptElement.prototype ? ' govuk-frontend-supported' : '');
