// Copies the locked front-end packages (npm ci first) into the portals' static/vendor, each
// with its licence file where the package has one and a VERSION file (name@version licence); tests/unit/web/test_vendored_assets.py holds the
// copies to package-lock.json. Run: npm ci && npm run vendor
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const repo = join(dirname(fileURLToPath(import.meta.url)), "..");
const vendor = join(repo, "src/onceonly/entrypoints/web/static/vendor");

// folder under vendor/ <- package, and the files taken from it (relative paths).
const COPIES = {
  "govuk-frontend": ["govuk-frontend", [
    ["dist/govuk/govuk-frontend.min.css", "govuk-frontend.min.css"],
    ["dist/govuk/govuk-frontend.min.js", "govuk-frontend.min.js"],
    ["dist/govuk/assets", "assets"],
  ]],
  "swagger-ui": ["swagger-ui-dist", [
    ["swagger-ui-bundle.js", "swagger-ui-bundle.js"],
    ["swagger-ui.css", "swagger-ui.css"],
    ["LICENSE", "LICENSE"],
  ]],
  "redoc": ["redoc", [
    ["bundles/redoc.standalone.js", "redoc.standalone.js"],
    ["LICENSE", "LICENSE"],
  ]],
};

for (const [folder, [name, files]] of Object.entries(COPIES)) {
  const from = join(repo, "node_modules", name);
  const to = join(vendor, folder);
  rmSync(to, { recursive: true, force: true });
  mkdirSync(to, { recursive: true });
  for (const [source, target] of files) {
    cpSync(join(from, source), join(to, target), { recursive: true });
  }
  const { version, license } = JSON.parse(readFileSync(join(from, "package.json"), "utf8"));
  writeFileSync(join(to, "VERSION"), `${name}@${version} ${license}\n`);
}
