// i18n: the message catalogues (i18n/zh-CN.json, i18n/en.json). Simplified
// Chinese by default; the operator's choice is kept in localStorage and
// the document's lang attribute follows it. Every label of the pages is
// t(KEY); a key missing from the catalogue shows as itself (the test
// checks that none is missing from either).
const LANGS = ["zh-CN", "en"];
let lang = "zh-CN";
let messages = {};

export function currentLang() {
  return lang;
}

export async function loadLang(wanted) {
  let chosen = wanted;
  if (!chosen) {
    try {
      chosen = localStorage.getItem("onecard.lang");
    } catch (e) {
      chosen = null;
    }
  }
  if (!LANGS.includes(chosen)) chosen = "zh-CN";
  const r = await fetch("i18n/" + chosen + ".json", { credentials: "same-origin" });
  messages = await r.json();
  lang = chosen;
  document.documentElement.lang = chosen;
  try {
    localStorage.setItem("onecard.lang", chosen);
  } catch (e) {
    // private mode: the choice lasts as long as the page
  }
}

// The message of key, with {name} replaced by vars' values.
export function t(key, vars) {
  let s = Object.prototype.hasOwnProperty.call(messages, key) ? messages[key] : key;
  if (vars) {
    for (const [k, v] of Object.entries(vars)) s = s.split("{" + k + "}").join(String(v));
  }
  return s;
}
