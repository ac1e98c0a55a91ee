#!/usr/bin/python3
"""Drives headless Chromium (Debian's chromium) over the DevTools protocol for the
dashboard's browser tests: one page stays open while the steps run, so a test can change
Redis and see the page follow without a reload.

    tests/browser.py URL STEP...

Steps, in order:
    wait:JS      until the expression is truthy (each wait bounded by --timeout s)
    print:JS     prints JSON.stringify(value of JS), one line on stdout
    run:CMD      runs a shell command (exit status must be 0)
    shot:PATH    saves a PNG screenshot of the whole page
    size:WxH     sets the viewport (e.g. size:390x844 for a phone)

Exit 0 when every step worked; 1 with the reason on stderr. Chromium's own output goes
to $TMPDIR. Uses the system Python: python3-websocket is a Debian package."""
import base64, json, os, shutil, subprocess, sys, tempfile, time, urllib.request

import websocket

TIMEOUT = float(os.environ.get("BROWSER_TIMEOUT", "20"))


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    url, steps = argv[0], argv[1:]
    profile = tempfile.mkdtemp(prefix="agg-chromium-")
    log = open(os.path.join(profile, "chromium.log"), "w")
    proc = subprocess.Popen(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         "--no-first-run", "--disable-extensions", "--remote-debugging-port=0",
         "--remote-allow-origins=*", "--user-data-dir=" + profile, "--window-size=1280,900",
         "about:blank"], stdout=log, stderr=log)
    try:
        return drive(profile, url, steps)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        shutil.rmtree(profile, ignore_errors=True)


def drive(profile, url, steps):
    port_file = os.path.join(profile, "DevToolsActivePort")
    deadline = time.time() + TIMEOUT
    while not os.path.exists(port_file) or os.path.getsize(port_file) == 0:
        if time.time() > deadline:
            raise SystemExit("chromium did not open its DevTools port")
        time.sleep(0.1)
    port = int(open(port_file).read().split()[0])
    targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json", timeout=5))
    page = next(t for t in targets if t["type"] == "page")
    ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=TIMEOUT)
    ids = iter(range(1, 1 << 30))

    def call(method, **params):
        i = next(ids)
        ws.send(json.dumps({"id": i, "method": method, "params": params}))
        while True:
            msg = json.loads(ws.recv())
            if msg.get("id") == i:
                if "error" in msg:
                    raise SystemExit(f"{method}: {msg['error']}")
                return msg["result"]

    def evaluate(js, tolerant=False):
        r = call("Runtime.evaluate", expression=js, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            if tolerant:  # e.g. no document.body yet while the page loads
                return None
            raise SystemExit(f"JS error in {js!r}: {r['exceptionDetails'].get('text')}")
        return r["result"].get("value")

    call("Page.enable")
    call("Page.navigate", url=url)
    for step in steps:
        kind, _, arg = step.partition(":")
        if kind == "wait":
            deadline = time.time() + TIMEOUT
            while not evaluate(arg, tolerant=True):
                if time.time() > deadline:
                    raise SystemExit(f"timed out waiting for {arg!r}")
                time.sleep(0.1)
        elif kind == "print":
            print(json.dumps(evaluate(arg), ensure_ascii=False, separators=(",", ":")), flush=True)
        elif kind == "run":
            subprocess.run(arg, shell=True, check=True)
        elif kind == "shot":
            h = evaluate("document.documentElement.scrollHeight")
            w = evaluate("document.documentElement.clientWidth")
            shot = call("Page.captureScreenshot", format="png", captureBeyondViewport=True,
                        clip={"x": 0, "y": 0, "width": w, "height": h, "scale": 1})
            with open(arg, "wb") as f:
                f.write(base64.b64decode(shot["data"]))
        elif kind == "size":
            w, h = (int(x) for x in arg.split("x"))
            call("Emulation.setDeviceMetricsOverride", width=w, height=h,
                 deviceScaleFactor=1, mobile=w < 600)
        else:
            raise SystemExit(f"unknown step {step!r}")
    ws.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
