import { api, ApiError, saveSession, session } from "./api.js";
import { apply, language, setLanguage, t } from "./i18n.js";

const form = document.getElementById("login-form");
const error = document.getElementById("login-error");
const submit = document.getElementById("login-submit");

function next() {
  const n = new URLSearchParams(location.search).get("next");
  // Only paths of this site, never another origin.
  return n && n.startsWith("/") && !n.startsWith("//") ? n : "/";
}

document.documentElement.lang = language();
apply(document);
if (session()) location.replace(next());

document.getElementById("lang-toggle").addEventListener("click", () => {
  setLanguage(language() === "en" ? "zh-CN" : "en");
});

form.addEventListener("submit", async (e) => {
  e.preventDefault();
  error.hidden = true;
  submit.disabled = true;
  submit.textContent = t("login.busy");
  try {
    const s = await api("/api/auth/login", {
      method: "POST",
      body: { username: form.username.value.trim(), password: form.password.value },
    });
    saveSession(s);
    if (!localStorage.getItem("ecc.language")) setLanguage(s.language);
    location.replace(next());
  } catch (err) {
    error.textContent = err instanceof ApiError ? t("login.failed", { detail: err.detail }) : t("login.network");
    error.hidden = false;
    form.password.select();
  } finally {
    submit.disabled = false;
    submit.textContent = t("login.submit");
  }
});
