from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, or_, select
from sqlalchemy.exc import IntegrityError

from src.core.contracts import FastCompleted, FastPlanChanged, Reward
from src.core.lean import HotQuery
from src.core.persistence import lock_identity
from src.core.types import ensure_utc
from src.core.uow import UnitOfWork
from src.modules.event_journal import EventType, event_journal
from src.modules.profile import OnboardingStep, profile_service

from .errors import (
    FastingNotSafe,
    FastInProgress,
    FastsTooClose,
    InvalidWindowTime,
    OverlappingEatingWindow,
    OverlappingFast,
    TooManyPauses,
    UnsupportedForWindowType,
    WindowAlreadyActive,
    WindowNotActive,
    WindowNotFound,
    WindowNotPaused,
)
from .interface import TimeKeeperInterface
from .models import (
    PROTOCOL_ALIASES,
    ClosedWindow,
    CloseWindowRequest,
    CorrectWindowRequest,
    EndState,
    ExtendWindowRequest,
    FastingStage,
    NextStage,
    OpenWindowRequest,
    PauseInterval,
    TimeWindow,
    WindowState,
    WindowType,
)
from .orm import OPEN_STATES, TimeWindowRow
from .stages import DEFAULT_PROTOCOL, STAGES, instant_at, pause_timeline, protocol_hours, stage_index

HOUR = 3600
MIN_CREDITED_FAST = 12 * HOUR  # the least fasted time that earns XP and streak credit
MIN_COMPLETED_FAST = 60  # a fast closed with less fasted time than this ends as abandoned
SHORT_FAST_WARNING = "Fasts under 12 h earn no XP or streak credit"
MAX_BACKFILL = timedelta(days=7)
MAX_PLAN = timedelta(days=7)
CLOCK_SKEW = timedelta(seconds=60)
# Which open window wins `GET /windows/active` when no type is asked for.
ACTIVE_PRIORITY = (WindowType.FAST, WindowType.EATING, WindowType.WORKOUT, WindowType.RECOVERY)

W = TimeWindowRow
_COLUMNS = (
    W.id,
    W.identity_id,
    W.window_type,
    W.state,
    W.start_time,
    W.end_time,
    W.scheduled_end,
    W.protocol,
    W.target_seconds,
    W.paused_at,
    W.paused_seconds,
    W.pauses,
    W.window_metadata,
    W.created_at,
    W.updated_at,
)

_OPEN = HotQuery(
    lambda: select(*_COLUMNS).where(
        W.identity_id == bindparam("identity_id"), or_(*(W.state == state for state in OPEN_STATES))
    )
)
_OPEN_OF_TYPE = HotQuery(
    lambda: select(*_COLUMNS).where(
        W.identity_id == bindparam("identity_id"),
        or_(*(W.state == state for state in OPEN_STATES)),
        W.window_type == bindparam("window_type"),
    )
)


def ended_pauses(stored: Sequence[dict[str, str]] | None) -> list[PauseInterval]:
    """The stored pause log, oldest first."""
    return [
        PauseInterval(
            started_at=ensure_utc(datetime.fromisoformat(p["started_at"])),
            ended_at=ensure_utc(datetime.fromisoformat(p["ended_at"])),
        )
        for p in stored or ()
    ]


def _logged(pauses: Sequence[dict[str, str]] | None, started: datetime, ended: datetime) -> list[dict[str, str]]:
    return [*(pauses or ()), {"started_at": started.isoformat(), "ended_at": ended.isoformat()}]


class TimeKeeperService(TimeKeeperInterface):
    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.session = uow.session

    # Presentation ---------------------------------------------------------------------------

    def view(self, row: TimeWindowRow) -> TimeWindow:
        return TimeWindow(**self._fields(row))

    @property
    def _pause_limit(self) -> timedelta:
        return timedelta(minutes=self.uow.settings.fast_max_pause_minutes)

    def _settle_pause(self, row: TimeWindowRow) -> None:
        """A pause that outlived the limit ended by itself at the limit: record it so (the fast
        has been running again since then)."""
        if row.state != WindowState.PAUSED or row.paused_at is None:
            return
        limit = self._pause_limit
        if self.uow.now() - row.paused_at <= limit:
            return
        ended_at = row.paused_at + limit
        row.paused_seconds += int(limit.total_seconds())
        row.pauses = _logged(row.pauses, row.paused_at, ended_at)
        row.paused_at = None
        row.state = str(WindowState.ACTIVE)
        if row.scheduled_end is not None:
            row.scheduled_end += limit

    def _fields(self, row: TimeWindowRow) -> dict[str, Any]:
        now = self.uow.now()
        end = row.end_time or now
        state, paused_at, paused_total = row.state, row.paused_at, row.paused_seconds
        ended = ended_pauses(row.pauses)
        scheduled_end = row.scheduled_end
        if state == WindowState.PAUSED and paused_at is not None:
            open_pause = now - paused_at
            if open_pause > self._pause_limit:  # ended by itself at the limit (see `_settle_pause`)
                open_pause = self._pause_limit
                ended = [*ended, PauseInterval(started_at=paused_at, ended_at=paused_at + open_pause)]
                state, paused_at = str(WindowState.ACTIVE), None
                paused_total += int(open_pause.total_seconds())
            else:
                paused_total += max(0, int(open_pause.total_seconds()))
            if scheduled_end is not None:  # the plan moves with the pause: the projected end
                scheduled_end += max(open_pause, timedelta(0))
            end = now
        paused = paused_total
        elapsed = max(0, int((end - row.start_time).total_seconds()) - paused)
        target = row.target_seconds
        remaining = max(0, target - elapsed) if target else None
        progress = round(min(100.0, elapsed * 100 / target), 1) if target else None
        is_fast = row.window_type == WindowType.FAST
        goal_met = bool(target) and elapsed >= (target or 0) and (not is_fast or elapsed >= MIN_CREDITED_FAST)
        fields: dict[str, Any] = {
            "id": row.id,
            "identity_id": row.identity_id,
            "window_type": row.window_type,
            "state": state,
            "start_time": row.start_time,
            "end_time": row.end_time,
            "scheduled_end": scheduled_end,
            "metadata": row.window_metadata or {},
            "protocol": row.protocol,
            "target_seconds": target,
            "paused_at": paused_at,
            "paused_duration": paused,
            "pauses": ended,
            "elapsed_seconds": elapsed,
            "remaining_seconds": remaining,
            "progress_percent": progress,
            "goal_met": goal_met,
            "warnings": [SHORT_FAST_WARNING] if is_fast and target and target < MIN_CREDITED_FAST else [],
            "created_at": row.created_at,
            "updated_at": row.updated_at,
        }
        if is_fast:
            running = state == WindowState.ACTIVE
            index = stage_index(elapsed)
            stage = STAGES[index]
            open_pause_at = paused_at if state == WindowState.PAUSED and row.end_time is None else None
            spans = [(p.started_at, p.ended_at) for p in ended]
            closed_pauses = paused_total - (
                max(0, int((now - open_pause_at).total_seconds())) if open_pause_at is not None else 0
            )
            timeline = pause_timeline(row.start_time, closed_pauses, spans, open_pause_at)
            fields["stage"] = FastingStage(
                name=stage.name,
                label=stage.label,
                description=stage.description,
                starts_at_hours=stage.starts_at_hours,
                ends_at_hours=stage.ends_at_hours,
                started_at=instant_at(row.start_time, timeline, stage.starts_at_hours * HOUR),
            )
            if index + 1 < len(STAGES) and state in OPEN_STATES:
                upcoming = STAGES[index + 1]
                wait = upcoming.starts_at_hours * HOUR - elapsed
                fields["next_stage"] = NextStage(
                    name=upcoming.name,
                    label=upcoming.label,
                    starts_at_hours=upcoming.starts_at_hours,
                    starts_at=now + timedelta(seconds=wait) if running else None,
                    starts_in_seconds=wait,
                )
        return fields

    # Lookups --------------------------------------------------------------------------------

    async def _lock(self, identity_id: uuid.UUID, window_id: uuid.UUID) -> TimeWindowRow:
        """The caller's window, locked for this transaction.

        Lock order on every write path: the person's `time_windows` advisory lock first, then
        rows. Closing a fast may open an eating window (which takes the advisory lock) while a
        start correction takes the advisory lock and then the fast's row; one order for all keeps
        them from deadlocking."""
        await lock_identity(self.session, "time_windows", identity_id)
        row = (
            await self.session.execute(
                select(W)
                .where(W.id == window_id, W.identity_id == identity_id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        ).scalar_one_or_none()
        if row is None:
            raise WindowNotFound("Window not found")
        self._settle_pause(row)
        return row

    # Reads the app polls select plain columns (no ORM identity map): see PERFORMANCE notes.
    async def get(self, identity_id: uuid.UUID, window_id: uuid.UUID) -> TimeWindow:
        row = (
            await self.session.execute(select(*_COLUMNS).where(W.id == window_id, W.identity_id == identity_id))
        ).first()
        if row is None:
            raise WindowNotFound("Window not found")
        return self.view(row)  # type: ignore[arg-type]

    async def active(self, identity_id: uuid.UUID, window_type: WindowType | None) -> TimeWindow | None:
        # The timer screen polls this: a statement built once, run below the ORM.
        if window_type is None:
            rows: list[Any] = list(await _OPEN.all(self.session, identity_id=identity_id))
        else:
            rows = list(await _OPEN_OF_TYPE.all(self.session, identity_id=identity_id, window_type=str(window_type)))
        if not rows:
            return None
        rows.sort(key=lambda r: (ACTIVE_PRIORITY.index(WindowType(r.window_type)), -r.start_time.timestamp()))
        return self.view(rows[0])

    async def active_fast(self, identity_id: uuid.UUID) -> TimeWindow | None:
        return await self.active(identity_id, WindowType.FAST)

    async def history(
        self,
        identity_id: uuid.UUID,
        *,
        window_type: WindowType | None,
        state: WindowState | None,
        start_time: datetime | None,
        end_time: datetime | None,
        limit: int,
        offset: int,
    ) -> list[TimeWindow]:
        if start_time and end_time and end_time <= start_time:
            raise InvalidWindowTime("end_time must be after start_time")
        query = select(W).where(W.identity_id == identity_id)
        if window_type is not None:
            query = query.where(W.window_type == str(window_type))
        if state is not None:
            query = query.where(W.state == str(state))
        if start_time is not None:
            query = query.where(W.start_time >= start_time)
        if end_time is not None:
            query = query.where(W.start_time < end_time)
        query = query.order_by(W.start_time.desc(), W.id).limit(limit).offset(offset)
        return [self.view(row) for row in (await self.session.execute(query)).scalars()]

    async def completed_fasts_between(self, identity_id: uuid.UUID, start: datetime, end: datetime) -> list[TimeWindow]:
        query = (
            select(W)
            .where(
                W.identity_id == identity_id,
                W.window_type == str(WindowType.FAST),
                W.state == str(WindowState.COMPLETED),
                W.end_time >= start,
                W.end_time < end,
            )
            .order_by(W.end_time)
        )
        return [self.view(row) for row in (await self.session.execute(query)).scalars()]

    # Opening --------------------------------------------------------------------------------

    async def log_fast(self, identity_id: uuid.UUID, request: OpenWindowRequest) -> TimeWindow:
        if request.window_type != WindowType.FAST or request.end_time is None:
            raise ValueError("log_fast takes a finished fast (window_type fast, end_time set)")
        return await self.open(identity_id, request)

    async def open(self, identity_id: uuid.UUID, request: OpenWindowRequest) -> TimeWindow | ClosedWindow:
        now = self.uow.now()
        kind = request.window_type
        is_fast = kind == WindowType.FAST
        if not is_fast and (request.end_time is not None or request.protocol is not None or request.custom_hours):
            raise UnsupportedForWindowType("protocol, custom_hours and end_time apply to fasts only")
        start = self._checked_start(request.start_time, now)
        default_protocol = DEFAULT_PROTOCOL
        if is_fast and request.protocol is None and request.custom_hours is None:
            # The person's own default (profile preferences), else 16:8.
            preferred = (await profile_service(self.uow).preferences_of(identity_id)).default_fasting_protocol
            default_protocol = str(preferred or DEFAULT_PROTOCOL)
        protocol, target_hours, eating_hours = self._plan(request, is_fast, default_protocol)
        if is_fast:
            safety = await profile_service(self.uow).fasting_safety(identity_id)
            if not safety.safe:
                raise FastingNotSafe(
                    "Your health profile says fasting is not safe for you; talk to your doctor first",
                    extra={"reasons": safety.warnings, "unsafe_conditions": [str(c) for c in safety.unsafe_conditions]},
                )
        await lock_identity(self.session, "time_windows", identity_id)

        hours = target_hours if is_fast else eating_hours
        target_seconds = int(hours * HOUR) if hours else None
        scheduled_end = request.scheduled_end
        if scheduled_end is not None:
            if scheduled_end <= start or scheduled_end - start > MAX_PLAN:
                raise InvalidWindowTime("scheduled_end must be after the start and at most 7 days later")
            target_seconds = int((scheduled_end - start).total_seconds())
        elif target_seconds:
            scheduled_end = start + timedelta(seconds=target_seconds)

        if request.end_time is not None:  # a finished past fast
            end = request.end_time
            if end <= start or end > now + CLOCK_SKEW:
                raise InvalidWindowTime("end_time must be after start_time and not in the future")
            await self._refuse_overlap(identity_id, start, min(end, now), gap=True)
            row = self._new_row(
                identity_id, kind, start, scheduled_end, protocol, target_seconds, request.metadata, now
            )
            row.state = str(WindowState.COMPLETED)
            row.end_time = min(end, now)
            self.session.add(row)
            await self.session.flush()
            return await self._finish_fast(row, EndState.COMPLETED, logged=True)

        if is_fast:
            if start < now - CLOCK_SKEW:
                await self._refuse_overlap(identity_id, start, now, open_eating_ends=True, gap=True)
            await self._end_open_eating_window(identity_id, start)
        elif kind == WindowType.EATING and await self._open_row(identity_id, WindowType.FAST) is not None:
            raise FastInProgress("End the current fast before opening an eating window")
        if await self._open_row(identity_id, kind) is not None:
            raise WindowAlreadyActive(f"A {kind} window is already active")
        row = self._new_row(identity_id, kind, start, scheduled_end, protocol, target_seconds, request.metadata, now)
        try:
            async with self.session.begin_nested():
                self.session.add(row)
                await self.session.flush()
        except IntegrityError as exc:  # a concurrent open won the race (one open window per type)
            raise WindowAlreadyActive(f"A {kind} window is already active") from exc
        if is_fast:
            await event_journal(self.uow).record(
                identity_id,
                EventType.FAST_STARTED,
                related_id=row.id,
                related_type="time_window",
                metadata={"window_type": "fast", "protocol": protocol, "target_hours": target_hours},
            )
            await self._plan_changed(row)
        elif kind == WindowType.EATING:
            await event_journal(self.uow).record(
                identity_id,
                EventType.EATING_WINDOW_STARTED,
                related_id=row.id,
                related_type="time_window",
                metadata={"window_type": "eating", "target_hours": eating_hours},
            )
        return self.view(row)

    def _checked_start(self, requested: datetime | None, now: datetime) -> datetime:
        if requested is None:
            return now
        if requested > now + CLOCK_SKEW:
            raise InvalidWindowTime("start_time cannot be in the future")
        if requested < now - MAX_BACKFILL:
            raise InvalidWindowTime("start_time can be at most 7 days back")
        return min(requested, now)

    def _plan(
        self, request: OpenWindowRequest, is_fast: bool, default_protocol: str = DEFAULT_PROTOCOL
    ) -> tuple[str | None, float | None, float | None]:
        """(protocol, fasting hours, eating hours) from the request or the app's metadata."""
        if not is_fast:
            if request.window_type == WindowType.EATING:
                hours = request.metadata.get("target_hours")
                if isinstance(hours, int | float) and 0 < hours <= 24:
                    return None, None, float(hours)
                return None, None, 8.0
            return None, None, None
        meta = request.metadata
        protocol = request.protocol or meta.get("protocol")
        if protocol is None:
            # A length without a protocol is a custom fast of that length.
            protocol = "custom" if request.custom_hours is not None else default_protocol
        # The same spellings as the top-level field (older clients put them in metadata too).
        protocol = str(protocol).strip()
        protocol = PROTOCOL_ALIASES.get(protocol, protocol)
        custom = request.custom_hours
        if custom is None and protocol == "custom":
            raw = meta.get("target_hours")
            if isinstance(raw, int | float) and not isinstance(raw, bool) and 1 <= raw <= 72:
                custom = int(raw)
            else:
                raise InvalidWindowTime("custom fasts need custom_hours (or metadata.target_hours) between 1 and 72")
        try:
            fast_hours, eating_hours = protocol_hours(protocol, custom)
        except KeyError as exc:
            raise InvalidWindowTime(f"unknown fasting protocol {protocol!r}") from exc
        return protocol, float(fast_hours), float(eating_hours)

    def _new_row(
        self,
        identity_id: uuid.UUID,
        kind: WindowType,
        start: datetime,
        scheduled_end: datetime | None,
        protocol: str | None,
        target_seconds: int | None,
        metadata: dict[str, Any],
        now: datetime,
    ) -> TimeWindowRow:
        return TimeWindowRow(
            id=uuid.uuid4(),
            identity_id=identity_id,
            window_type=str(kind),
            state=str(WindowState.ACTIVE),
            start_time=start,
            scheduled_end=scheduled_end,
            protocol=protocol,
            target_seconds=target_seconds,
            paused_seconds=0,
            window_metadata=dict(metadata),
            created_at=now,
            updated_at=now,
        )

    async def _open_row(self, identity_id: uuid.UUID, kind: WindowType) -> TimeWindowRow | None:
        return (
            await self.session.execute(
                select(W)
                .where(W.identity_id == identity_id, W.window_type == str(kind), W.state.in_(OPEN_STATES))
                .with_for_update()
            )
        ).scalar_one_or_none()

    async def _refuse_overlap(
        self,
        identity_id: uuid.UUID,
        start: datetime,
        end: datetime,
        *,
        ignore: uuid.UUID | None = None,
        open_eating_ends: bool = False,
        gap: bool = False,
    ) -> None:
        """A fast shares no time with another fast nor with an eating window (open windows run
        until now). `open_eating_ends`: the open eating window is ended at the fast's start by
        `_end_open_eating_window`, which checks it. `gap` (times the client chose: logged and
        back-dated fasts): another fast that is not abandoned must also be at least
        `FAST_MIN_GAP_MINUTES` away, or the two are one fast."""
        now = self.uow.now()
        margin = timedelta(minutes=self.uow.settings.fast_min_gap_minutes) if gap else timedelta(0)
        query = select(W.id, W.window_type, W.state, W.start_time, W.end_time).where(
            W.identity_id == identity_id,
            W.window_type.in_([str(WindowType.FAST), str(WindowType.EATING)]),  # workouts may fall in a fast
            W.start_time < end + margin,
            or_(W.end_time.is_(None), W.end_time > start - margin),
        )
        for other_id, kind, state, other_start, other_end in (await self.session.execute(query)).all():
            if other_id == ignore:
                continue
            overlaps = other_start < end and (other_end or now) > start
            if kind == str(WindowType.FAST):
                if overlaps:
                    raise OverlappingFast("This fast would overlap another fast")
                if state != str(WindowState.ABANDONED) and (
                    (other_end or now) > start - margin and other_start < end + margin
                ):
                    minutes = int(margin.total_seconds() // 60)
                    raise FastsTooClose(
                        f"Fasts less than {minutes} minutes apart are one fast: log them as one, "
                        "or leave an eating window between them",
                        extra={"fast_id": str(other_id), "min_gap_minutes": minutes},
                    )
                continue
            if not overlaps:
                continue
            if other_end is None and open_eating_ends:
                continue
            raise OverlappingEatingWindow(
                "This fast would overlap an eating window", extra={"eating_window_id": str(other_id)}
            )

    async def _end_open_eating_window(self, identity_id: uuid.UUID, fast_start: datetime) -> None:
        """Starting a fast ends the eating window before it, at the fast's start (windows never
        overlap); a fast that would start before that eating window began is refused."""
        row = await self._open_row(identity_id, WindowType.EATING)
        if row is None:
            return
        if fast_start < row.start_time:
            raise OverlappingEatingWindow(
                "This fast would start before the open eating window began; end the eating window or start later",
                extra={"eating_window_id": str(row.id), "eating_window_start": row.start_time.isoformat()},
            )
        row.state = str(WindowState.COMPLETED)
        row.end_time = fast_start
        row.updated_at = self.uow.now()
        await self.session.flush()
        await event_journal(self.uow).record(
            identity_id,
            EventType.EATING_WINDOW_ENDED,
            related_id=row.id,
            related_type="time_window",
            metadata={"window_type": "eating"},
        )

    async def _plan_changed(self, row: TimeWindowRow) -> None:
        """Tell whoever schedules around a running fast (reminders) that its planned end moved."""
        if row.window_type != WindowType.FAST or row.state not in OPEN_STATES:
            return
        await self.uow.publish(
            FastPlanChanged(
                identity_id=row.identity_id,
                occurred_at=self.uow.now(),
                window_id=row.id,
                state=row.state,
                scheduled_end=row.scheduled_end if row.state == WindowState.ACTIVE else None,
            )
        )

    # State changes --------------------------------------------------------------------------

    async def close(self, identity_id: uuid.UUID, window_id: uuid.UUID, request: CloseWindowRequest) -> ClosedWindow:
        row = await self._lock(identity_id, window_id)
        if row.state not in OPEN_STATES:
            raise WindowNotActive(f"Window is not active (current state: {row.state})", extra={"state": row.state})
        now = self.uow.now()
        if row.state == WindowState.PAUSED and row.paused_at is not None:
            row.paused_seconds += max(0, int((now - row.paused_at).total_seconds()))
            row.pauses = _logged(row.pauses, row.paused_at, max(now, row.paused_at))
            row.paused_at = None
        end_state = request.end_state
        row.end_time = now
        if (
            row.window_type == WindowType.FAST
            and end_state == EndState.COMPLETED
            and self._fields(row)["elapsed_seconds"] < MIN_COMPLETED_FAST
        ):
            end_state = EndState.ABANDONED  # nothing was fasted: not a completed fast
        row.state = str(end_state)
        row.updated_at = now
        if request.metadata:
            row.window_metadata = {**(row.window_metadata or {}), **request.metadata}
        await self.session.flush()
        if row.window_type == WindowType.FAST:
            closed = await self._finish_fast(row, end_state)
            if request.open_eating_window and end_state == EndState.COMPLETED:
                closed.eating_window = await self._open_eating_after(row)
            return closed
        if row.window_type == WindowType.EATING:
            await event_journal(self.uow).record(
                identity_id,
                EventType.EATING_WINDOW_ENDED,
                related_id=row.id,
                related_type="time_window",
                metadata={"window_type": "eating"},
            )
        return ClosedWindow(**self._fields(row), credit_reason="Only fasts and workout sessions earn XP")

    async def _finish_fast(self, row: TimeWindowRow, end_state: EndState, *, logged: bool = False) -> ClosedWindow:
        """Credit a completed fast and journal it once: a logged past fast as `fast_logged` at its
        own end time, a closed fast as `fast_completed` (or `fast_abandoned`)."""
        fields = self._fields(row)
        fasted = int(fields["elapsed_seconds"])
        metadata: dict[str, Any] = {
            "window_type": "fast",
            "protocol": row.protocol,
            "duration_seconds": fasted,
            "duration_hours": round(fasted / HOUR, 2),
            "paused_seconds": row.paused_seconds,
            "goal_met": fields["goal_met"],
        }
        reward: Reward | None = None
        journal = event_journal(self.uow)
        event_id = journal.reserve_event_id()  # before what the fast causes (XP, streak, achievements)
        if end_state == EndState.COMPLETED:
            assert row.end_time is not None  # noqa: S101 - set by the caller
            outcome = await self.uow.publish(
                FastCompleted(
                    identity_id=row.identity_id,
                    occurred_at=row.end_time,
                    window_id=row.id,
                    started_at=row.start_time,
                    ended_at=row.end_time,
                    fasted_seconds=fasted,
                    target_seconds=row.target_seconds,
                    protocol=row.protocol,
                )
            )
            reward = outcome.first(Reward)
            if reward is not None and reward.credited:  # onboarding's first fast is one that counts
                await profile_service(self.uow).mark_onboarding(row.identity_id, OnboardingStep.FIRST_FAST_COMPLETED)
            metadata.update(
                xp_earned=reward.xp_earned if reward else 0,
                base_xp=reward.base_xp if reward else 0,
                streak_bonus_xp=reward.streak_bonus_xp if reward else 0,
                achievement_xp=reward.achievement_xp if reward else 0,
                achievements=[{"name": a.name, "xp": a.xp_reward} for a in reward.achievements_unlocked]
                if reward
                else [],
                credited=bool(reward and reward.credited),
                credit_reason=reward.reason if reward and not reward.credited else None,
            )
        if logged:
            event_type = EventType.FAST_LOGGED
        else:
            event_type = EventType.FAST_COMPLETED if end_state == EndState.COMPLETED else EventType.FAST_ABANDONED
        await journal.record(
            row.identity_id,
            event_type,
            related_id=row.id,
            related_type="time_window",
            metadata=metadata,
            occurred_at=row.end_time if logged else None,
            event_id=event_id,
        )
        if reward is None:
            if end_state == EndState.ABANDONED:
                reason = "An abandoned fast earns no XP"
                if fields["elapsed_seconds"] < MIN_COMPLETED_FAST:
                    reason = "Nothing was fasted, so the fast ended as abandoned; it earns no XP"
            else:
                reason = "Nothing to credit"
            return ClosedWindow(**fields, credit_reason=reason)
        return ClosedWindow(
            **fields,
            xp_earned=reward.xp_earned,
            base_xp=reward.base_xp,
            streak_bonus_xp=reward.streak_bonus_xp,
            achievement_xp=reward.achievement_xp,
            level_up=reward.level_up,
            new_level=reward.new_level if reward.level_up else None,  # as /progression/activity
            achievements_unlocked=reward.achievements_unlocked,
            streak=reward.streak,
            credited=reward.credited,
            credit_reason=reward.reason,
        )

    async def _open_eating_after(self, fast: TimeWindowRow) -> TimeWindow:
        now = self.uow.now()
        protocol = fast.protocol or DEFAULT_PROTOCOL
        custom = round((fast.target_seconds or 0) / HOUR) if protocol == "custom" else None
        try:
            eating_hours = protocol_hours(protocol, custom)[1]
        except KeyError:
            eating_hours = 8
        request = OpenWindowRequest(
            window_type=WindowType.EATING,
            scheduled_end=now + timedelta(hours=eating_hours),
            metadata={"after_fast": str(fast.id), "target_hours": eating_hours},
        )
        opened = await self.open(fast.identity_id, request)
        return opened

    async def extend(self, identity_id: uuid.UUID, window_id: uuid.UUID, request: ExtendWindowRequest) -> TimeWindow:
        row = await self._lock(identity_id, window_id)
        if row.state not in OPEN_STATES:
            raise WindowNotActive(f"Window is not active (current state: {row.state})", extra={"state": row.state})
        now = self.uow.now()
        new_end = request.new_end
        if (
            new_end <= now
            or new_end <= row.start_time
            or new_end - row.start_time > MAX_PLAN + timedelta(seconds=row.paused_seconds)
        ):
            raise InvalidWindowTime("new_end must be in the future and at most 7 days after the start")
        old_end = row.scheduled_end
        row.scheduled_end = new_end
        row.target_seconds = int((new_end - row.start_time).total_seconds()) - row.paused_seconds
        row.updated_at = now
        await self.session.flush()
        if row.window_type == WindowType.FAST:
            await event_journal(self.uow).record(
                identity_id,
                EventType.FAST_EXTENDED,
                related_id=row.id,
                related_type="time_window",
                metadata={
                    "window_type": "fast",
                    "old_scheduled_end": old_end.isoformat() if old_end else None,
                    "new_scheduled_end": new_end.isoformat(),
                },
            )
            await self._plan_changed(row)
        return self.view(row)

    async def pause(self, identity_id: uuid.UUID, window_id: uuid.UUID) -> TimeWindow:
        row = await self._lock(identity_id, window_id)
        if row.window_type != WindowType.FAST:
            raise UnsupportedForWindowType("Only fasts can be paused")
        if row.state != WindowState.ACTIVE:
            raise WindowNotActive(f"Only an active fast can be paused (current state: {row.state})")
        most = self.uow.settings.fast_max_pauses
        if len(row.pauses or ()) >= most:
            raise TooManyPauses(f"A fast can be paused at most {most} times", extra={"max_pauses": most})
        now = self.uow.now()
        row.state = str(WindowState.PAUSED)
        row.paused_at = now
        row.updated_at = now
        await self.session.flush()
        await event_journal(self.uow).record(
            identity_id,
            EventType.FAST_PAUSED,
            related_id=row.id,
            related_type="time_window",
            metadata={"window_type": "fast"},
        )
        await self._plan_changed(row)
        return self.view(row)

    async def resume(self, identity_id: uuid.UUID, window_id: uuid.UUID) -> TimeWindow:
        row = await self._lock(identity_id, window_id)  # a pause past the limit has ended by itself here
        if row.state != WindowState.PAUSED or row.paused_at is None:
            limit = self.uow.settings.fast_max_pause_minutes
            raise WindowNotPaused(
                f"Only a paused fast can be resumed (current state: {row.state}); pauses end by themselves "
                f"after {limit} minutes",
                extra={"state": row.state, "max_pause_minutes": limit},
            )
        now = self.uow.now()
        pause = max(0, int((now - row.paused_at).total_seconds()))
        row.paused_seconds += pause
        row.pauses = _logged(row.pauses, row.paused_at, max(now, row.paused_at))
        row.paused_at = None
        row.state = str(WindowState.ACTIVE)
        if row.scheduled_end is not None:
            row.scheduled_end += timedelta(seconds=pause)  # the plan moves with the pause
        row.updated_at = now
        await self.session.flush()
        await event_journal(self.uow).record(
            identity_id,
            EventType.FAST_RESUMED,
            related_id=row.id,
            related_type="time_window",
            metadata={"window_type": "fast", "paused_seconds": pause},
        )
        await self._plan_changed(row)
        return self.view(row)

    async def correct_start(
        self, identity_id: uuid.UUID, window_id: uuid.UUID, request: CorrectWindowRequest
    ) -> TimeWindow:
        row = await self._lock(identity_id, window_id)
        if row.window_type != WindowType.FAST:
            raise UnsupportedForWindowType("Only a fast's start can be corrected")
        if row.state not in OPEN_STATES:
            raise WindowNotActive(f"Only a running fast can be corrected (current state: {row.state})")
        now = self.uow.now()
        new_start = self._checked_start(request.start_time, now)
        first_pause = next((p.started_at for p in ended_pauses(row.pauses)), row.paused_at)
        if first_pause is not None and new_start >= first_pause:
            raise InvalidWindowTime("start_time must be before the fast's first pause began")
        await self._refuse_overlap(identity_id, new_start, now, ignore=row.id)
        shift = new_start - row.start_time
        old_start = row.start_time
        row.start_time = new_start
        if row.scheduled_end is not None:
            row.scheduled_end += shift  # keep the planned length
        row.updated_at = now
        await self.session.flush()
        await event_journal(self.uow).record(
            identity_id,
            EventType.FAST_START_CORRECTED,
            related_id=row.id,
            related_type="time_window",
            metadata={"window_type": "fast", "old_start": old_start.isoformat(), "new_start": new_start.isoformat()},
        )
        await self._plan_changed(row)
        return self.view(row)
