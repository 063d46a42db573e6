#!/usr/bin/env python3
"""Parse every sandbox response the tool relies on with the official DocSpace SDK's models.

A developer check, not part of `cargo test` (the Rust test `sandbox_sdk_conformance` encodes
the same models' required fields and types without Python). Usage:

    pip download docspace-api-sdk==3.7.0 --no-deps -d /tmp/sdk
    (cd /tmp/sdk && unzip -qo docspace_api_sdk-3.7.0-py3-none-any.whl)
    pip install pydantic python-dateutil typing-extensions urllib3   # the SDK's dependencies
    cargo build
    SDK_PATH=/tmp/sdk tools/sdk_check.py [path/to/docspace-provision]

It starts `docspace-provision sandbox` on a temporary state file (with a connected-storage
room), makes the calls, and validates each answer with the SDK wrapper model that the SDK's
API client would use for that endpoint. Exit status 0 when everything parses.
"""

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.environ.get("SDK_PATH", "/tmp/sdk"))

import warnings  # noqa: E402

warnings.filterwarnings("ignore")

from docspace_api_sdk.models.employee_array_wrapper import EmployeeArrayWrapper  # noqa: E402
from docspace_api_sdk.models.employee_full_array_wrapper import EmployeeFullArrayWrapper  # noqa: E402
from docspace_api_sdk.models.employee_full_wrapper import EmployeeFullWrapper  # noqa: E402
from docspace_api_sdk.models.file_operation_array_wrapper import FileOperationArrayWrapper  # noqa: E402
from docspace_api_sdk.models.file_operation_wrapper import FileOperationWrapper  # noqa: E402
from docspace_api_sdk.models.file_share_array_wrapper import FileShareArrayWrapper  # noqa: E402
from docspace_api_sdk.models.folder_content_integer_wrapper import FolderContentIntegerWrapper  # noqa: E402
from docspace_api_sdk.models.folder_dto_integer import FolderDtoInteger  # noqa: E402
from docspace_api_sdk.models.folder_dto_string import FolderDtoString  # noqa: E402
from docspace_api_sdk.models.folder_integer_wrapper import FolderIntegerWrapper  # noqa: E402
from docspace_api_sdk.models.folder_string_wrapper import FolderStringWrapper  # noqa: E402
from docspace_api_sdk.models.group_array_wrapper import GroupArrayWrapper  # noqa: E402
from docspace_api_sdk.models.group_wrapper import GroupWrapper  # noqa: E402
from docspace_api_sdk.models.quota_wrapper import QuotaWrapper  # noqa: E402
from docspace_api_sdk.models.room_security_wrapper import RoomSecurityWrapper  # noqa: E402
from docspace_api_sdk.models.string_array_wrapper import STRINGArrayWrapper  # noqa: E402
from docspace_api_sdk.models.tenant_user_invitation_settings_wrapper import (  # noqa: E402
    TenantUserInvitationSettingsWrapper,
)

BIN = sys.argv[1] if len(sys.argv) > 1 else "target/debug/docspace-provision"


def main() -> int:
    tmp = tempfile.mkdtemp()
    state = os.path.join(tmp, "state.json")
    # Seed, then add a room in connected storage before the real start.
    seed = subprocess.Popen([BIN, "-q", "sandbox", "--listen", "127.0.0.1:0", "--state", state],
                            stdout=subprocess.PIPE, text=True)
    seed.stdout.readline()
    seed.kill()
    seed.wait()
    data = json.load(open(state))
    data["third_party_rooms"] = [{"id": "sbox-3-7", "title": "Box room", "room_type": 5,
                                  "tags": ["external"], "provider": "Box", "provider_id": 3}]
    json.dump(data, open(state, "w"))

    proc = subprocess.Popen([BIN, "-q", "sandbox", "--listen", "127.0.0.1:0", "--state", state,
                             "--operation-delay-ms", "300"], stdout=subprocess.PIPE, text=True)
    url = proc.stdout.readline().strip().split("=", 1)[1]
    key = proc.stdout.readline().strip().split("=", 1)[1]
    failures = 0

    def call(method, path, body=None):
        req = urllib.request.Request(url + path, method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Authorization": "Bearer " + key,
                                              "Content-Type": "application/json"})
        with urllib.request.urlopen(req) as resp:
            return json.load(resp)

    def check(name, model, value):
        nonlocal failures
        try:
            model.from_dict(value)
            print(f"ok    {name} ({model.__name__})")
        except Exception as e:  # noqa: BLE001
            failures += 1
            print(f"FAIL  {name} ({model.__name__}): {e}")

    try:
        room = call("POST", "/api/2.0/files/rooms",
                    {"title": "🚀 Launch", "roomType": 2, "tags": ["Acme"], "cover": "planet"})
        check("POST /files/rooms", FolderIntegerWrapper, room)
        rid = room["response"]["id"]
        check("GET /files/rooms/{id}", FolderIntegerWrapper, call("GET", f"/api/2.0/files/rooms/{rid}"))
        check("GET /files/rooms/{string id}", FolderStringWrapper,
              call("GET", "/api/2.0/files/rooms/sbox-3-7"))
        check("PUT /files/rooms/{id}", FolderIntegerWrapper,
              call("PUT", f"/api/2.0/files/rooms/{rid}", {"title": "Renamed", "tags": ["acme"]}))
        check("PUT /files/rooms/{id}/tags", FolderIntegerWrapper,
              call("PUT", f"/api/2.0/files/rooms/{rid}/tags", {"names": ["x"]}))
        share = call("PUT", f"/api/2.0/files/rooms/{rid}/share",
                     {"invitations": [{"id": "6e0f0000-0000-4000-8000-000000000001", "access": 11},
                                      {"id": "5a4db0c5-0000-4000-8000-000000000003", "access": 9},
                                      {"email": "new@sandbox.test", "access": 2}], "notify": False})
        check("PUT /files/rooms/{id}/share", RoomSecurityWrapper, share)
        check("GET /files/rooms/{id}/share", FileShareArrayWrapper,
              call("GET", f"/api/2.0/files/rooms/{rid}/share"))
        listing = call("GET", "/api/2.0/files/rooms?count=100")
        check("GET /files/rooms", FolderContentIntegerWrapper, listing)
        for f in listing["response"]["folders"]:
            model = FolderDtoString if isinstance(f["id"], str) else FolderDtoInteger
            check(f"  folder {f['id']}", model, f)
        check("GET /files/tags", STRINGArrayWrapper, call("GET", "/api/2.0/files/tags"))
        op = call("PUT", f"/api/2.0/files/rooms/{rid}/archive", {"deleteAfter": False})
        check("PUT /files/rooms/{id}/archive", FileOperationWrapper, op)
        check("GET /files/fileops", FileOperationArrayWrapper, call("GET", "/api/2.0/files/fileops"))
        time.sleep(0.5)
        check("GET /files/fileops?id (finished)", FileOperationArrayWrapper,
              call("GET", f"/api/2.0/files/fileops?id={op['response']['id']}"))
        check("GET /people/@self", EmployeeFullWrapper, call("GET", "/api/2.0/people/@self"))
        check("GET /people/email", EmployeeFullWrapper,
              call("GET", "/api/2.0/people/email?email=uma.user@sandbox.test"))
        check("GET /people/filter", EmployeeFullArrayWrapper,
              call("GET", "/api/2.0/people/filter?count=100&sortBy=email"))
        check("GET /people", EmployeeFullArrayWrapper, call("GET", "/api/2.0/people"))
        check("GET /group", GroupArrayWrapper, call("GET", "/api/2.0/group"))
        check("GET /group/{id}", GroupWrapper,
              call("GET", "/api/2.0/group/6e0f0000-0000-4000-8000-000000000001?includeMembers=true"))
        group = call("POST", "/api/2.0/group",
                     {"groupName": "Design", "groupManager": "5a4db0c5-0000-4000-8000-000000000006",
                      "members": ["5a4db0c5-0000-4000-8000-000000000004"]})
        check("POST /group", GroupWrapper, group)
        check("PUT /group/{id}", GroupWrapper,
              call("PUT", f"/api/2.0/group/{group['response']['id']}",
                   {"groupName": "Design team", "membersToAdd": ["5a4db0c5-0000-4000-8000-000000000003"]}))
        check("POST /people/invite", EmployeeArrayWrapper,
              call("POST", "/api/2.0/people/invite",
                   {"invitations": [{"email": "typed@sandbox.test", "type": "User"}]}))
        check("PUT /people/type/{type}", EmployeeFullArrayWrapper,
              call("PUT", "/api/2.0/people/type/User",
                   {"userIds": ["5a4db0c5-0000-4000-8000-000000000005"]}))
        check("GET /settings/invitationsettings", TenantUserInvitationSettingsWrapper,
              call("GET", "/api/2.0/settings/invitationsettings"))
        check("GET /portal/payment/quota", QuotaWrapper, call("GET", "/api/2.0/portal/payment/quota"))
    finally:
        proc.kill()
        proc.wait()
    print("all responses parse" if failures == 0 else f"{failures} responses do not parse")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
