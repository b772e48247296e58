"""A device from a blank label to `ready`, through a client generated from the OpenAPI
document by openapi-python-client, without a line of hand-written HTTP.

    python walk.py BASE_URL      (the generated package `filiere_client` on sys.path)
"""

import datetime
import sys
import uuid

from filiere_client import AuthenticatedClient, Client
from filiere_client.api.auth import login
from filiere_client.api.items import get_item, item_history, post_event, register_item, resolve
from filiere_client.api.labels import allocate_labels
from filiere_client.models import (
    Category,
    CommandEraseDrive,
    CommandEraseDriveType,
    CommandMarkReady,
    CommandMarkReadyType,
    CommandQaTest,
    CommandQaTestType,
    CommandTriage,
    CommandTriageType,
    DriveBus,
    DriveMedia,
    DriveSpec,
    ErasureResult,
    ErasureTechnique,
    ErrorBody,
    EventRequest,
    EventResponse,
    Grade,
    HistoryView,
    ItemState,
    ItemView,
    LabelBatchView,
    LoginRequest,
    NewLabelBatch,
    NistLevel,
    QaCheck,
    QaLine,
    QaOutcome,
    RegisterItem,
    ResolvedUnclaimedCode,
    Route,
    SessionResponse,
)


def expect(value, kind):
    """The answer, if it is of the expected kind; the error body otherwise."""
    if not isinstance(value, kind):
        detail = value.to_dict() if isinstance(value, ErrorBody) else value
        raise SystemExit(f"expected {kind.__name__}, got {detail!r}")
    return value


def main(base: str) -> None:
    run = uuid.uuid4().hex[:8]
    session = expect(
        login.sync(client=Client(base_url=base), body=LoginRequest(username="tom", password="filiere-demo")),
        SessionResponse,
    )
    client = AuthenticatedClient(base_url=base, token=session.token, raise_on_unexpected_status=True)
    site = session.user.site

    # A blank label, as printed ahead of time, scanned at reception.
    batch = expect(allocate_labels.sync(client=client, body=NewLabelBatch(site=site, count=1)), LabelBatchView)
    code = batch.codes[0]
    expect(resolve.sync(client=client, q=code), ResolvedUnclaimedCode)

    serial = f"S3Z-{run}"
    registered = expect(
        register_item.sync(
            client=client,
            body=RegisterItem(
                idempotency_key=f"walk-{run}-register",
                code=code,
                category=Category.LAPTOP,
                brand="Dell",
                model="Latitude 5490",
                serial=f"CN-{run}",
                weight_g=1700,
                drives=[DriveSpec(serial=serial, size_gb=256, bus=DriveBus.SATA, media=DriveMedia.SSD)],
            ),
        ),
        EventResponse,
    )
    item = registered.item
    assert item.state == ItemState.RECEIVED, item.state

    def step(name, command):
        nonlocal item
        answer = expect(
            post_event.sync(
                id=item.id,
                client=client,
                body=EventRequest(
                    idempotency_key=f"walk-{run}-{name}",
                    expected_version=item.version,
                    command=command,
                ),
            ),
            EventResponse,
        )
        item = answer.item
        print(f"{name:>8}: {item.state.value} (version {item.version})")

    now = datetime.datetime.now(datetime.timezone.utc)
    step("triage", CommandTriage(route=Route.REFURBISH, type_=CommandTriageType.TRIAGE))
    step(
        "erase",
        CommandEraseDrive(
            serial=serial,
            level=NistLevel.PURGE,
            technique=ErasureTechnique.FIRMWARE_SANITIZE,
            tool="nvme-cli",
            tool_version="2.4",
            passes=1,
            verified=True,
            started_at=now - datetime.timedelta(minutes=4),
            ended_at=now,
            result=ErasureResult.ERASED,
            type_=CommandEraseDriveType.ERASE_DRIVE,
        ),
    )
    step(
        "qa",
        CommandQaTest(
            checks=[
                QaLine(check=check, outcome=QaOutcome.PASS)
                for check in (QaCheck.BOOT, QaCheck.KEYBOARD, QaCheck.SCREEN, QaCheck.WIFI)
            ],
            os_installed="Emmabuntüs DE5",
            functional_grade=Grade.A,
            cosmetic_grade=Grade.B,
            type_=CommandQaTestType.QA_TEST,
        ),
    )
    step("ready", CommandMarkReady(type_=CommandMarkReadyType.MARK_READY))

    stored = expect(get_item.sync(id=item.id, client=client), ItemView)
    assert stored.state == ItemState.READY, stored.state
    history = expect(item_history.sync(id=item.id, client=client), HistoryView)
    kinds = [e.payload.type_.value for e in history.events]
    assert kinds == ["registered", "drives_declared", "triaged", "drive_erased", "qa_tested", "marked_ready"], kinds
    print(f"{stored.code} is ready: {', '.join(kinds)}")


if __name__ == "__main__":
    main(sys.argv[1])
