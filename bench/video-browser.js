// Chromium side of bench/video.py: WHEP and Janus viewers, first frame, timecode latency.
window.bench = {
  cells(video, canvas) {
    const w = video.videoWidth, h = video.videoHeight;
    const c = Math.max(4, Math.floor(w / 80));
    canvas.width = w; canvas.height = c * 2 + 2;
    const ctx = canvas.getContext("2d", { willReadFrequently: true });
    ctx.drawImage(video, 0, 0, w, c * 2 + 2, 0, 0, w, c * 2 + 2);
    const data = ctx.getImageData(0, 0, w, c * 2 + 2).data;
    let word = 0n;
    for (let i = 0; i < 48; i++) {
      const x = c + i * c + Math.floor(c / 2), y = c + Math.floor(c / 2);
      const p = (y * w + x) * 4;
      const luma = 0.299 * data[p] + 0.587 * data[p + 1] + 0.114 * data[p + 2];
      word = (word << 1n) | (luma > 128 ? 1n : 0n);
    }
    const value = word >> 8n, check = Number(word & 0xffn);
    let sum = 0;
    for (let i = 0n; i < 5n; i++) sum += Number((value >> (8n * i)) & 0xffn);
    if ((sum & 0xff) !== check) return null;
    const span = 1n << 40n, now = BigInt(Date.now());
    const base = now - (now % span);
    const candidates = [base - span + value, base + value, base + span + value];
    let best = candidates[0];
    for (const t of candidates) if ((t > now ? t - now : now - t) < (best > now ? best - now : now - best)) best = t;
    return Number(now - best);
  },
  watch(video, seconds) {
    const canvas = document.createElement("canvas");
    const out = [];
    return new Promise((resolve) => {
      const end = performance.now() + seconds * 1000;
      const step = () => {
        const age = bench.cells(video, canvas);
        if (age !== null) out.push(age);
        if (performance.now() < end) video.requestVideoFrameCallback(step);
        else resolve(out);
      };
      video.requestVideoFrameCallback(step);
    });
  },
  firstFrame(video, started) {
    return new Promise((resolve) => video.requestVideoFrameCallback(() => resolve(performance.now() - started)));
  },
  async whep(url, token) {
    const started = performance.now();
    const video = document.createElement("video");
    video.muted = true; video.autoplay = true; document.body.append(video);
    const pc = new RTCPeerConnection({ iceServers: [], bundlePolicy: "max-bundle" });
    pc.addTransceiver("video", { direction: "recvonly" });
    pc.ontrack = (e) => { video.srcObject = new MediaStream([e.track]); video.play(); };
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise((r) => { if (pc.iceGatheringState === "complete") r(); else pc.onicegatheringstatechange = () => pc.iceGatheringState === "complete" && r(); });
    const res = await fetch(url, { method: "POST", headers: { "Content-Type": "application/sdp", Authorization: `Bearer ${token}` }, body: pc.localDescription.sdp });
    await pc.setRemoteDescription({ type: "answer", sdp: await res.text() });
    const ms = await bench.firstFrame(video, started);
    return { ms, id: bench.keep(pc, video, res.headers.get("Location")) };
  },
  async janus(url) {
    const started = performance.now();
    const call = async (path, body) => (await fetch(url + path, { method: "POST", body: JSON.stringify({ ...body, transaction: Math.random().toString(36).slice(2) }) })).json();
    const session = (await call("", { janus: "create" })).data.id;
    const handle = (await call(`/${session}`, { janus: "attach", plugin: "janus.plugin.streaming" })).data.id;
    await call(`/${session}/${handle}`, { janus: "message", body: { request: "watch", id: 1 } });
    let offer = null;
    while (!offer) {
      const ev = await (await fetch(`${url}/${session}?maxev=1`)).json();
      if (ev.jsep) offer = ev.jsep;
    }
    const video = document.createElement("video");
    video.muted = true; video.autoplay = true; document.body.append(video);
    const pc = new RTCPeerConnection({ iceServers: [] });
    pc.ontrack = (e) => { video.srcObject = new MediaStream([e.track]); video.play(); };
    await pc.setRemoteDescription(offer);
    await pc.setLocalDescription(await pc.createAnswer());
    await call(`/${session}/${handle}`, { janus: "message", body: { request: "start" }, jsep: { type: "answer", sdp: pc.localDescription.sdp } });
    const ms = await bench.firstFrame(video, started);
    return { ms, id: bench.keep(pc, video, null) };
  },
  kept: [],
  keep(pc, video, location) { bench.kept.push({ pc, video, location }); return bench.kept.length - 1; },
  async close(id, token) {
    const k = bench.kept[id];
    k.pc.close(); k.video.remove();
    if (k.location) await fetch(k.location, { method: "DELETE", headers: { Authorization: `Bearer ${token}` } });
  },
};
