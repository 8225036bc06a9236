// Starts GOV.UK Frontend's components (error summary focus, service navigation menu, ...).
import { initAll } from "/static/vendor/govuk-frontend/govuk-frontend.min.js";

initAll();
