// margincall's dashboard: calls the REST API of the same origin (the login cookie carries the
// token), shows progress while a job runs, and field errors in the scenario editor.
"use strict";

const api = async (method, path, body) => {
  const response = await fetch(path, {
    method, credentials: "same-origin",
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let data = null;
  try { data = await response.json(); } catch (e) { data = null; }
  return { ok: response.ok, status: response.status, data };
};

const message = (data) => {
  if (!data) return "the service did not answer";
  const d = data.detail !== undefined ? data.detail : data;
  if (typeof d === "string") return d;
  if (Array.isArray(d)) return d.map((e) => `${(e.loc || []).join(".")}: ${e.msg}`).join("; ");
  if (d.message) return d.problems ? `${d.message}: ` + d.problems.map((p) => `${p.field}: ${p.message}`).join("; ") : d.message;
  return JSON.stringify(d);
};

const percent = (x) => `${(100 * x).toFixed(0)}%`;

// Poll a job until it ends; onStep(job) on each answer. Resolves with the final job.
const follow = (jobId, onStep) => new Promise((resolve) => {
  const tick = async () => {
    const r = await api("GET", `/runs/${jobId}`);
    if (r.ok) {
      onStep(r.data);
      if (["complete", "failed", "cancelled"].includes(r.data.status)) { resolve(r.data); return; }
    }
    setTimeout(tick, 700);
  };
  tick();
});

const showProgress = (box, job) => {
  box.hidden = false;
  const bar = box.querySelector("progress");
  const text = box.querySelector("span");
  const p = job.progress;
  if (p.fraction !== null) { bar.value = p.fraction; } else { bar.removeAttribute("value"); }
  const paths = p.total ? `${p.done.toLocaleString()} of ${p.total.toLocaleString()} paths` : `${p.done.toLocaleString()} paths`;
  text.textContent = `${job.status}: ${paths}${p.fraction !== null ? " (" + percent(p.fraction) + ")" : ""}`;
};

// -- a run's page ----------------------------------------------------------------------------------
const runPage = () => {
  const box = document.getElementById("job");
  if (!box) return;
  const status = box.dataset.status;
  const progress = document.getElementById("job-progress");
  if (progress && (status === "queued" || status === "running")) {
    follow(box.dataset.job, (job) => {
      showProgress(progress, job);
      document.getElementById("job-status").textContent = job.status;
    }).then(() => window.location.reload());
  }
  const cancel = document.getElementById("cancel-button");
  if (cancel) {
    cancel.addEventListener("click", async () => {
      cancel.disabled = true;
      const r = await api("POST", `/runs/${box.dataset.job}/cancel`);
      if (!r.ok) { cancel.disabled = false; alert(message(r.data)); }
    });
  }
};

// -- runs list: compare two ------------------------------------------------------------------------
const runsPage = () => {
  const button = document.getElementById("compare-button");
  if (!button) return;
  const picks = () => Array.from(document.querySelectorAll("input.pick:checked")).map((c) => c.value);
  document.querySelectorAll("input.pick").forEach((c) => c.addEventListener("change", () => { button.disabled = picks().length !== 2; }));
  button.addEventListener("click", () => {
    const [a, b] = picks();
    window.location.href = `/ui/compare?a=${a}&b=${b}`;
  });
};

// -- the scenario editor ---------------------------------------------------------------------------
const editorPage = () => {
  const form = document.getElementById("editor");
  if (!form) return;
  const general = document.getElementById("editor-general");
  const valid = document.getElementById("editor-valid");
  const body = () => {
    const changes = {};
    form.querySelectorAll(".field[data-key] input").forEach((input) => { changes[input.name] = input.value; });
    return {
      scenario: form.dataset.scenario, changes,
      name: document.getElementById("editor-name").value,
      paths: parseInt(document.getElementById("editor-paths").value, 10) || 0,
      seed: parseInt(document.getElementById("editor-seed").value, 10) || 0,
    };
  };
  const showErrors = (data) => {
    form.querySelectorAll(".field[data-key]").forEach((field) => {
      const error = (data.errors || {})[field.dataset.key];
      const span = field.querySelector(".field-error");
      field.classList.toggle("bad", Boolean(error));
      span.hidden = !error;
      span.textContent = error || "";
    });
    const rest = data.general || [];
    general.hidden = rest.length === 0;
    general.textContent = rest.join("; ");
    valid.hidden = !data.valid;
  };
  document.getElementById("validate-button").addEventListener("click", async () => {
    const r = await api("POST", "/ui/editor/check", body());
    if (r.data && r.data.errors !== undefined) showErrors(r.data); else { general.hidden = false; general.textContent = message(r.data); }
  });
  const run = document.getElementById("run-button");
  if (run) {
    run.addEventListener("click", async () => {
      run.disabled = true;
      const r = await api("POST", "/ui/editor/run", body());
      if (r.data && r.data.errors !== undefined) showErrors(r.data);
      if (!r.ok) {
        if (!(r.data && r.data.errors !== undefined)) { general.hidden = false; general.textContent = message(r.data); }
        run.disabled = false;
        return;
      }
      const progress = document.getElementById("editor-progress");
      const job = await follow(r.data.job.id, (j) => showProgress(progress, j));
      const done = document.getElementById("editor-done");
      const link = document.getElementById("editor-run-link");
      link.href = `/ui/runs/${job.id}`;
      link.textContent = job.status === "complete" ? `Open the run's page (job ${job.id})` : `Job ${job.id} ${job.status}: see its page`;
      done.hidden = false;
      run.disabled = false;
    });
  }
};

// -- overview: post marks, the LTV chart -----------------------------------------------------------
const overviewPage = () => {
  const chart = document.getElementById("ltv-chart");
  if (chart && window.Plotly) {
    const d = JSON.parse(chart.dataset.chart);
    window.Plotly.newPlot(chart, [
      { type: "bar", orientation: "h", y: d.loans, x: d.ltv, name: "LTV today" },
      { type: "scatter", mode: "markers", y: d.loans, x: d.call, name: "call level", marker: { symbol: "line-ns-open", size: 30, color: "#e08a00", line: { width: 3, color: "#e08a00" } } },
      { type: "scatter", mode: "markers", y: d.loans, x: d.liquidation, name: "liquidation level", marker: { symbol: "line-ns-open", size: 30, color: "#b3261e", line: { width: 3, color: "#b3261e" } } },
    ], { title: { text: "LTV today against the call and liquidation levels" }, xaxis: { tickformat: ".0%", rangemode: "tozero" },
      yaxis: { automargin: true }, height: 200 + 50 * d.loans.length, margin: { l: 20, r: 20, t: 50, b: 40 },
      legend: { orientation: "h", y: -0.25 }, bargap: 0.4 },
    { displaylogo: false, responsive: true });
  }
  const form = document.getElementById("marks-form");
  if (!form) return;
  const file = document.getElementById("marks-file");
  file.addEventListener("change", () => {
    const f = file.files[0];
    if (!f) return;
    f.text().then((text) => { document.getElementById("marks-csv").value = text; });
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const error = document.getElementById("marks-error");
    error.hidden = true;
    const [kind, name] = document.getElementById("marks-scenario").value.split(/:(.*)/s);
    const scenario = kind === "id" ? { id: parseInt(name, 10) } : { builtin: name };
    const asOf = document.getElementById("marks-as-of").value;
    const body = {
      scenario, marks_csv: document.getElementById("marks-csv").value,
      alerts: document.getElementById("marks-alerts").value.split("\n").map((s) => s.trim()).filter(Boolean),
      paths: parseInt(document.getElementById("marks-paths").value, 10) || 0,
    };
    if (asOf) body.as_of = asOf;
    const button = document.getElementById("marks-submit");
    button.disabled = true;
    const r = await api("POST", "/monitor/marks", body);
    if (!r.ok) { error.hidden = false; error.textContent = message(r.data); button.disabled = false; return; }
    const job = await follow(r.data.id, (j) => showProgress(document.getElementById("marks-progress"), j));
    if (job.status === "complete") { window.location.reload(); return; }
    error.hidden = false;
    error.textContent = `job ${job.id} ${job.status}: ${job.error || ""}`;
    button.disabled = false;
  });
};

document.addEventListener("DOMContentLoaded", () => { runPage(); runsPage(); editorPage(); overviewPage(); });
