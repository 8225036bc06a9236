// GOV.UK Frontend's components style themselves for script once the body says it runs
// (its template does this inline; the Content-Security-Policy allows no inline script).
document.body.className += " js-enabled" +
  ("noModule" in HTMLScriptElement.prototype ? " govuk-frontend-supported" : "");
