// 一表通 Hub: small progressive enhancements. Every page works without this file.
"use strict";

function setupUpload() {
  const form = document.getElementById("upload");
  if (!form) return;
  const input = document.getElementById("files");
  const drop = document.getElementById("drop");
  const chosen = document.getElementById("chosen");
  const bar = document.getElementById("bar");
  const status = document.getElementById("status");
  let dropped = null;
  const show = (files) => {
    chosen.textContent = "";
    for (const f of files) {
      const li = document.createElement("li");
      li.textContent = f.name + "（" + Math.max(1, Math.round(f.size / 1024)) + " KB）";
      chosen.appendChild(li);
    }
  };
  input.addEventListener("change", () => { dropped = null; show(input.files); });
  ["dragenter", "dragover"].forEach((t) => drop.addEventListener(t, (e) => { e.preventDefault(); drop.classList.add("over"); }));
  ["dragleave", "drop"].forEach((t) => drop.addEventListener(t, (e) => { e.preventDefault(); drop.classList.remove("over"); }));
  drop.addEventListener("drop", (e) => { dropped = e.dataTransfer.files; show(dropped); });
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const files = dropped || input.files;
    if (!files || !files.length) { status.textContent = "请先选择或拖入台账文件。"; return; }
    const data = new FormData();
    data.append("csrf_token", form.querySelector("[name=csrf_token]").value);
    for (const f of files) data.append("files", f, f.name);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("Accept", "application/json");
    bar.hidden = false;
    xhr.upload.addEventListener("progress", (ev) => {
      if (ev.lengthComputable) { bar.value = Math.round((ev.loaded / ev.total) * 100); status.textContent = "正在上传 " + bar.value + "%"; }
    });
    xhr.addEventListener("load", () => {
      let body = {};
      try { body = JSON.parse(xhr.responseText); } catch (err) { body = {}; }
      if (xhr.status === 200 && body.url) { status.textContent = "上传完成，正在校验……"; window.location.href = body.url; }
      else { status.textContent = body.message || "上传失败，请重试。"; status.classList.add("alert"); }
    });
    xhr.addEventListener("error", () => { status.textContent = "网络错误，上传未完成。"; });
    xhr.send(data);
  });
}

function setupJob() {
  const box = document.getElementById("job");
  if (!box || box.dataset.final === "1") return;
  const url = box.dataset.url || "/clerk/jobs/" + box.dataset.job;
  const tick = () => fetch(url, { headers: { Accept: "application/json" } })
    .then((r) => r.json())
    .then((job) => {
      if (job.final) { window.location.reload(); return; }
      const bar = document.getElementById("job-bar");
      bar.max = job.total || 1; bar.value = job.done;
      let what = job.status_text || job.status;
      if (job.status === "queued" && job.waiting) what += "（前面还有 " + job.waiting + " 个任务）";
      else if (job.current && job.status !== "merging") what += "：" + job.current;
      document.getElementById("job-status").textContent = what + "（" + job.done + "/" + job.total + "）……";
      setTimeout(tick, 700);
    })
    .catch(() => setTimeout(tick, 2000));
  setTimeout(tick, 500);
}

function setupFilters() {
  document.querySelectorAll("table.filterable").forEach((table) => {
    let input = document.getElementById("q");
    if (!input || table.id !== "findings") {
      input = document.createElement("input");
      input.placeholder = "输入文字即时筛选";
      input.className = "live-filter";
      table.parentNode.insertBefore(input, table);
    }
    const rows = Array.from(table.tBodies[0].rows);
    input.addEventListener("input", () => {
      const q = input.value.trim().toLowerCase();
      rows.forEach((tr) => { tr.hidden = q !== "" && !tr.textContent.toLowerCase().includes(q); });
    });
  });
}

document.addEventListener("DOMContentLoaded", () => { setupUpload(); setupJob(); setupFilters(); });
