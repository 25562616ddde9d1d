"""Drives `avatar serve` with the official Python SDK, slack_sdk, unchanged but for
its base_url. Prints one JSON object: per step, what the SDK returned or raised.
The Rust test (tests/server/sdk.rs) judges it.

usage: slack_python.py BASE_URL TOKEN basic|retry|profile PHOTO OUT_DIR
(basic saves the first avatar's image_512, fetched as a browser would, to
OUT_DIR/first_512.jpg)
"""

import io
import json
import os
import sys
import urllib.request

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler


def main() -> None:
    base, token, mode, photo, out_dir = sys.argv[1:6]
    client = WebClient(token=token, base_url=base + "/api/")
    out = {}

    def step(name, call):
        try:
            out[name] = {"ok": True, "data": call().data}
        except SlackApiError as e:
            out[name] = {
                "ok": False,
                "error": e.response.get("error"),
                "status": e.response.status_code,
            }
        except Exception as e:  # what a broken pipe or a bare HTTP error becomes
            out[name] = {"ok": False, "exception": f"{type(e).__name__}: {e}"}

    with open(photo, "rb") as f:
        data = f.read()
    if mode == "basic":
        step("set_from_path", lambda: client.users_setPhoto(image=photo))
        step("get_after_path", client.users_profile_get)
        if out["get_after_path"]["ok"]:
            url = out["get_after_path"]["data"]["profile"]["image_512"]
            with urllib.request.urlopen(url) as r, open(
                os.path.join(out_dir, "first_512.jpg"), "wb"
            ) as f:
                f.write(r.read())
        step(
            "set_from_bytes_cropped",
            lambda: client.users_setPhoto(image=data, crop_x=100, crop_y=50, crop_w=512),
        )
        step("get_after_bytes", client.users_profile_get)
        step("set_from_file_object", lambda: client.users_setPhoto(image=io.BytesIO(data)))
        step("delete", client.users_deletePhoto)
        step("get_after_delete", client.users_profile_get)
        oversized = b"\xff\xd8\xff" + bytes(17 << 20)
        step("set_oversized", lambda: client.users_setPhoto(image=oversized))
        step("unknown_method", lambda: client.api_call("users.info"))
    elif mode == "profile":
        step(
            "set_profile",
            lambda: client.users_profile_set(
                profile={
                    "first_name": "Ada",
                    "last_name": "Lovelace",
                    "title": "Analyst",
                    "status_text": "computing",
                    "status_emoji": ":abacus:",
                    "status_expiration": 0,
                }
            ),
        )
        step("set_name_value", lambda: client.users_profile_set(name="pronouns", value="she/her"))
        step("get_after_set", client.users_profile_get)
        step("set_bad_emoji", lambda: client.users_profile_set(name="status_emoji", value="abacus"))
        step("set_other_user", lambda: client.users_profile_set(user="U2", name="title", value="x"))
    elif mode == "retry":
        client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=20))
        step("set_after_429", lambda: client.users_setPhoto(image=data))
    else:
        raise SystemExit(f"unknown mode {mode}")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
