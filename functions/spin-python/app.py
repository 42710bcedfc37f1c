"""A Spin Python app (spin-sdk 3.4, componentize-py), as `spin new http-py`
makes one, using Spin's key-value, variables, outbound Redis and LLM and the draft
wasi:keyvalue and wasi:config interfaces the SDK imports."""

from spin_sdk import key_value, llm, redis, variables
from spin_sdk.http import IncomingHandler, Request, Response
from spin_sdk.wit.imports import atomics
from spin_sdk.wit.imports import wasi_config_store as config
from spin_sdk.wit.imports import wasi_keyvalue_store as store
from spin_sdk.wit.types import Err


def text(status: int, body: str) -> Response:
    return Response(status, {"content-type": "text/plain"}, body.encode())


class IncomingHandler(IncomingHandler):
    def handle_request(self, request: Request) -> Response:
        path = request.headers.get("spin-path-info") or "/"
        if path == "/":
            return text(200, "python hello")
        if path == "/var":
            return text(200, variables.get("greeting"))
        if path == "/config":
            return text(200, f"{config.get('greeting')} {sorted(config.get_all())}")
        if path.startswith("/kv/"):
            key = path[len("/kv/"):]
            with key_value.open_default() as kv:
                if request.method == "PUT":
                    kv.set(key, request.body or b"")
                    return text(201, "stored")
                value = kv.get(key)
                return text(404, "no such key") if value is None else text(200, value.decode())
        if path.startswith("/count/"):
            key = path[len("/count/"):]
            with store.open("default") as bucket:
                return text(200, str(atomics.increment(bucket, key, 1)))
        if path.startswith("/redis/"):
            key = path[len("/redis/"):]
            try:
                with redis.open(variables.get("redis_address")) as db:
                    db.set(key, request.body or b"")
                    count = db.incr(f"{key}:count")
                    return text(200, f"{db.get(key).decode()} {count}")
            except Err as e:
                return text(503, type(e.value).__name__)
        if path == "/llm":
            try:
                return text(200, llm.infer("llama2-chat", "Say hello").text)
            except Err as e:
                return text(503, type(e.value).__name__)
        return text(404, "not found")
