"""A small OpenAI-compatible chat-completions server on loopback, serving a local checkpoint with our hf code.

It exists so the openai backend can be tested end to end against a real HTTP server without a
GPU or vLLM: ``POST /v1/chat/completions`` (with ``logprobs``/``top_logprobs``, ``temperature``,
``max_tokens``, ``seed`` and vLLM's ``continue_final_message`` / ``add_generation_prompt`` /
``mm_processor_kwargs.fps`` extensions) and ``GET /v1/models``. Video comes as vLLM takes it for
Qwen2.5-VL: a ``video_url`` data URL of JPEG frames (``data:video/jpeg;base64,<f1>,<f2>,...``) or of
a whole file (``data:video/mp4;base64,...``). Requests are served one at a time.

``python -m camreasoner.testing.serve_local --model DIR [--port 8000]`` runs it in the foreground.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np

from camreasoner.core.errors import CamReasonerError


class BadRequest(Exception):
    """A request the server refuses (HTTP status and one-line message)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _decode_video_url(url: str, fps: float) -> Any:
    """A :class:`SampledVideo` from a ``video_url`` data URL (JPEG frames, or a whole video file)."""
    import cv2

    from camreasoner.video.sampling import SampledVideo, sample_video

    if not url.startswith("data:"):
        raise BadRequest(400, "only data: URLs are accepted for video_url (this server fetches nothing)")
    head, _, payload = url.partition(",")
    if head == "data:video/jpeg;base64":
        frames = []
        for part in payload.split(","):
            buf = np.frombuffer(base64.b64decode(part), dtype=np.uint8)
            img = cv2.imdecode(buf, cv2.IMREAD_COLOR)
            if img is None:
                raise BadRequest(400, "a video frame is not a readable JPEG")
            frames.append(img[:, :, ::-1])
        if len({f.shape for f in frames}) != 1:
            raise BadRequest(400, "video frames differ in size")
        n = len(frames)
        return SampledVideo(
            "<request>",
            np.stack(frames),
            [i / fps for i in range(n)],
            fps,
            (frames[0].shape[1], frames[0].shape[0]),
            n / fps,
            False,
        )
    if head.startswith("data:video/") and head.endswith(";base64"):
        with tempfile.NamedTemporaryFile(suffix="." + head[11:-7].split("+")[0]) as fh:
            fh.write(base64.b64decode(payload))
            fh.flush()
            try:
                return sample_video(fh.name)
            except CamReasonerError as exc:
                raise BadRequest(400, str(exc).replace(fh.name, "<request video>")) from None
    raise BadRequest(400, f"unsupported video_url media type {head[5:]!r}")


def _hf_messages(messages: Any, fps: float) -> tuple[list[dict[str, Any]], list[Any]]:
    """OpenAI chat messages -> chat-template messages and the videos they carry."""
    if not isinstance(messages, list) or not messages:
        raise BadRequest(400, "'messages' must be a non-empty list")
    out, videos = [], []
    for msg in messages:
        content = msg.get("content")
        if isinstance(content, str):
            out.append({"role": msg.get("role", "user"), "content": content})
            continue
        parts = []
        for part in content or []:
            kind = part.get("type")
            if kind == "text":
                parts.append({"type": "text", "text": part.get("text", "")})
            elif kind == "video_url":
                videos.append(_decode_video_url(part["video_url"]["url"], fps))
                parts.append({"type": "video"})
            else:
                raise BadRequest(
                    400, f"content type {kind!r} is not supported by this server (video_url, text)"
                )
        out.append({"role": msg.get("role", "user"), "content": parts})
    if len(videos) != 1:
        raise BadRequest(400, f"exactly one video per request is supported, got {len(videos)}")
    return out, videos


class LocalServer:
    """Serve ``model_dir`` on ``host:port`` (port 0: any free port) in a background thread."""

    def __init__(
        self,
        model_dir: str | os.PathLike[str],
        host: str = "127.0.0.1",
        port: int = 0,
        served_name: str | None = None,
        device: str | None = None,
    ) -> None:
        from camreasoner.backends.hf import HFRunner

        self.runner = HFRunner(str(model_dir), device=device)
        self.name = served_name or Path(model_dir).name
        self.lock = threading.Lock()
        self.requests = 0
        self._texts: dict[int, str] = {}
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                return

            def _send(self, status: int, obj: Any) -> None:
                data = json.dumps(obj).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802
                if self.path.rstrip("/") == "/v1/models":
                    self._send(200, {"object": "list", "data": [{"id": server.name, "object": "model"}]})
                else:
                    self._send(404, {"error": {"message": f"no route {self.path}"}})

            def do_POST(self) -> None:  # noqa: N802
                if self.path.rstrip("/") != "/v1/chat/completions":
                    self._send(404, {"error": {"message": f"no route {self.path}"}})
                    return
                try:
                    length = int(self.headers.get("Content-Length", "0"))
                    body = json.loads(self.rfile.read(length))
                    self._send(200, server.complete(body))
                except BadRequest as exc:
                    self._send(exc.status, {"error": {"message": str(exc), "code": exc.status}})
                except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
                    self._send(
                        400, {"error": {"message": f"malformed request ({type(exc).__name__}: {exc})"}}
                    )

        self.httpd = ThreadingHTTPServer((host, port), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        """``http://host:port/v1``."""
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def complete(self, body: dict[str, Any]) -> dict[str, Any]:
        """One chat completion (the JSON the server answers)."""
        if body.get("model") != self.name:
            raise BadRequest(404, f"the model {body.get('model')!r} does not exist (serving {self.name!r})")
        fps = float((body.get("mm_processor_kwargs") or {}).get("fps") or 1.0)
        messages, videos = _hf_messages(body.get("messages"), fps)
        cont = bool(body.get("continue_final_message", False))
        prompt = self.runner.processor.apply_chat_template(
            messages,
            tokenize=False,
            add_generation_prompt=bool(body.get("add_generation_prompt", not cont)),
            continue_final_message=cont,
        )
        top = int(body.get("top_logprobs") or 0) if body.get("logprobs") else 0
        with self.lock:
            self.requests += 1
            gen = self.runner.generate(
                videos,
                [prompt],
                max_new_tokens=int(body.get("max_tokens") or 256),
                temperature=float(body.get("temperature") or 0.0),
                seed=body.get("seed"),
                top_logprobs=max(top, 1) if body.get("logprobs") else 0,
            )[0]
        choice: dict[str, Any] = {
            "index": 0,
            "message": {"role": "assistant", "content": gen.text},
            "finish_reason": gen.finish_reason,
            "logprobs": None,
        }
        if body.get("logprobs"):

            def entry(tid: int, lp: float) -> dict[str, Any]:
                text = self.token_text(tid)
                return {"token": text, "logprob": lp, "bytes": list(text.encode())}

            choice["logprobs"] = {
                "content": [
                    {**entry(t, lp), "top_logprobs": [entry(i, v) for i, v in tops[:top]]}
                    for t, lp, tops in zip(
                        gen.token_ids, gen.logprobs or [], gen.top_logprobs or [], strict=True
                    )
                ]
            }
        return {
            "id": f"chatcmpl-{uuid.uuid4().hex[:16]}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": self.name,
            "choices": [choice],
            "usage": {
                "prompt_tokens": gen.prompt_tokens,
                "completion_tokens": len(gen.token_ids),
                "total_tokens": gen.prompt_tokens + len(gen.token_ids),
            },
        }

    def token_text(self, token_id: int) -> str:
        """The decoded text of one token id (cached: the top-logprob lists repeat ids)."""
        text = self._texts.get(token_id)
        if text is None:
            text = self._texts[token_id] = self.runner.tokenizer.decode([token_id])
        return text

    def __enter__(self) -> LocalServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


def main() -> None:
    """Run the server in the foreground until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="local checkpoint directory")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--served-name", default=None)
    args = parser.parse_args()
    try:
        server = LocalServer(args.model, args.host, args.port, args.served_name)
    except CamReasonerError as exc:
        raise SystemExit(f"error: {exc}") from None
    print(f"serving {server.name!r} at {server.base_url}", flush=True)
    try:
        server.httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.httpd.server_close()


if __name__ == "__main__":
    main()
