"""HTTP routes of recurring rooms (series): the rule and its exceptions, occurrences in
any window, RSVPs, topics, presenters, gaps, attendance, in-app reminders and the secret
per-person iCalendar feeds. Every change is an event of ``series:<id>``
(:mod:`server.domain.series_events`); followers of that stream see it live."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import msgspec

from ..errors import NotFound
from ..store import AppliedCommand
from . import series_types as t
from .endpoints import Call, Download, Endpoint

if TYPE_CHECKING:
    from ..actions.series import Series

WindowMs = Annotated[int, msgspec.Meta(ge=0, le=2**53 - 1)]
WINDOW = (("from_ms", WindowMs, "From this instant (epoch ms; default: a day ago)"),
          ("to_ms", WindowMs, "Up to this instant (epoch ms; default: 60 days ahead; at "
                              "most 400 days after from_ms)"))


def series_endpoints(series: Series) -> list[Endpoint]:
    def window(call: Call) -> tuple[int | None, int | None]:
        return call.query("from_ms", WindowMs, None), call.query("to_ms", WindowMs, None)

    def key(call: Call) -> tuple[str, str]:
        return call.param("series"), call.param("occurrence")

    def topic(call: Call) -> int:
        raw = call.param("topic")
        if not raw.isdigit() or len(raw) > 15 or int(raw) < 1:
            raise NotFound(f"no topic {raw[:20]!r}")
        return int(raw)

    async def of_community(call: Call) -> list[t.SeriesView]:
        return await series.all_of(call.who, call.param("community"))

    async def create(call: Call) -> t.SeriesView:
        return await series.create(call.who, call.param("community"), call.body)

    async def upcoming(call: Call) -> list[t.OccurrenceView]:
        return await series.community_occurrences(call.who, call.param("community"), *window(call))

    async def gaps(call: Call) -> list[t.OccurrenceView]:
        return await series.gaps(call.who, call.param("community"))

    async def view(call: Call) -> t.SeriesView:
        return await series.view(call.who, call.param("series"))

    async def edit(call: Call) -> t.SeriesView:
        return await series.edit(call.who, call.param("series"), call.body)

    async def end(call: Call) -> t.SeriesView:
        return await series.end(call.who, call.param("series"), call.body.at_ms)

    async def occurrences(call: Call) -> list[t.OccurrenceView]:
        return await series.occurrences(call.who, call.param("series"), *window(call))

    async def occurrence(call: Call) -> t.OccurrenceView:
        return await series.occurrence(call.who, *key(call))

    async def cancel(call: Call) -> t.OccurrenceView:
        return await series.cancel(call.who, *key(call), call.body.reason)

    async def restore(call: Call) -> t.OccurrenceView:
        return await series.restore(call.who, *key(call))

    async def move(call: Call) -> t.OccurrenceView:
        return await series.move(call.who, *key(call), call.body.start)

    async def host(call: Call) -> t.OccurrenceView:
        return await series.set_host(call.who, *key(call), call.body.host)

    async def title(call: Call) -> t.OccurrenceView:
        return await series.set_title(call.who, *key(call), call.body.title, call.body.topic)

    async def rsvp(call: Call) -> t.OccurrenceView:
        return await series.rsvp(call.who, *key(call), call.body.answer)

    async def volunteer(call: Call) -> t.OccurrenceView:
        return await series.volunteer(call.who, *key(call), call.body.role, True)

    async def withdraw(call: Call) -> t.OccurrenceView:
        return await series.volunteer(call.who, *key(call), call.body.role, False)

    async def attendance(call: Call) -> t.Attendance:
        return await series.attendance(call.who, *key(call))

    async def attendance_csv(call: Call) -> Download:
        table = await series.attendance(call.who, *key(call))
        return Download(series.attendance_csv(table), "text/csv; charset=utf-8",
                        f"attendance-{table.series}-{table.occurrence}.csv")

    async def topics(call: Call) -> list[t.TopicView]:
        return await series.topics(call.who, call.param("series"))

    async def propose(call: Call) -> t.TopicView:
        return await series.propose(call.who, call.param("series"), call.body.title)

    async def upvote(call: Call) -> t.TopicView:
        return await series.vote(call.who, call.param("series"), topic(call), True)

    async def unvote(call: Call) -> t.TopicView:
        return await series.vote(call.who, call.param("series"), topic(call), False)

    async def feed_links(call: Call) -> t.FeedLinks:
        return await series.feed_links(call.who, call.param("community"))

    async def reset_feeds(call: Call) -> None:
        await series.reset_feed_token(call.who)

    async def community_feed(call: Call) -> Download:
        body = await series.community_feed(call.param("token"), call.param("community"))
        return Download(body, "text/calendar; charset=utf-8",
                        f"{call.param('community')}.ics")

    async def series_feed(call: Call) -> Download:
        body = await series.series_feed(call.param("token"), call.param("series"))
        return Download(body, "text/calendar; charset=utf-8", f"{call.param('series')}.ics")

    async def reminders(call: Call) -> list[t.Reminder]:
        return series.reminders(call.who)

    async def topic_now(call: Call, applied: AppliedCommand) -> t.TopicView:
        number = applied.seq if call.request.method == "POST" else topic(call)
        return await series.topic(call.who, call.param("series"), number)

    async def created(call: Call, applied: AppliedCommand) -> t.SeriesView:
        return await series.view(call.who, applied.stream.partition(":")[2])

    async def series_now(call: Call, applied: AppliedCommand) -> t.SeriesView:
        return await view(call)

    async def occurrence_now(call: Call, applied: AppliedCommand) -> t.OccurrenceView:
        return await occurrence(call)

    c = "/api/communities/{community}"
    s = "/api/series/{series}"
    o = s + "/occurrences/{occurrence}"
    occ, ov = list[t.OccurrenceView], t.OccurrenceView
    return [
        Endpoint("GET", c + "/series", "The community's recurring rooms", of_community,
                 reply=list[t.SeriesView], refusals=(404,)),
        Endpoint("POST", c + "/series", "Create a recurring room (a rule in a time zone, "
                 "a room, a default agenda and host)", create, t.CreateSeries, t.SeriesView,
                 201, refusals=(404, 409), replay=created),
        Endpoint("GET", c + "/occurrences", "Every occurrence of the community's recurring "
                 "rooms in a window, soonest first (cancelled ones flagged)", upcoming,
                 reply=occ, query=WINDOW, refusals=(404,)),
        Endpoint("GET", c + "/gaps", "Occurrences in the next 14 days with no presenter or "
                 "no backup (conveners)", gaps, reply=occ, refusals=(404,)),
        Endpoint("GET", c + "/feeds", "Your secret iCalendar feed URLs for the community "
                 "and each of its recurring rooms", feed_links, reply=t.FeedLinks,
                 refusals=(404,)),
        Endpoint("POST", "/api/feeds/reset", "Make new feed URLs; the old ones stop working",
                 reset_feeds, status=204, auth="account"),
        Endpoint("GET", "/api/feeds/{token}/communities/{community}", "A community's "
                 "recurring rooms as an iCalendar feed (the secret URL is the credential)",
                 community_feed, reply=str, auth="none", produces="text/calendar",
                 refusals=(404,)),
        Endpoint("GET", "/api/feeds/{token}/series/{series}", "One recurring room as an "
                 "iCalendar feed (the secret URL is the credential)", series_feed,
                 reply=str, auth="none", produces="text/calendar", refusals=(404,)),
        Endpoint("GET", "/api/reminders", "Your in-app reminders: occurrences you answered "
                 "yes or maybe to that start soon", reminders, reply=list[t.Reminder]),
        Endpoint("GET", s, "A recurring room and its current rules", view,
                 reply=t.SeriesView, refusals=(404,)),
        Endpoint("PATCH", s, "Change the rules from now on (rule, time, zone, host...)", edit,
                 t.EditSeries, t.SeriesView, refusals=(404, 409), replay=series_now),
        Endpoint("POST", s + "/end", "End the series: no occurrence from then on", end,
                 t.EndSeries, t.SeriesView, refusals=(404, 409), replay=series_now),
        Endpoint("GET", s + "/occurrences", "The series' occurrences in a window", occurrences,
                 reply=occ, query=WINDOW, refusals=(404,)),
        Endpoint("GET", o, "One occurrence", occurrence, reply=ov, refusals=(404,)),
        Endpoint("POST", o + "/cancel", "Cancel one occurrence", cancel, t.CancelOccurrence,
                 ov, refusals=(404, 409), replay=occurrence_now),
        Endpoint("POST", o + "/restore", "Take a cancellation back", restore, reply=ov,
                 refusals=(404, 409), replay=occurrence_now),
        Endpoint("POST", o + "/move", "Move one occurrence (not onto another)", move,
                 t.MoveOccurrence, ov, refusals=(404, 409), replay=occurrence_now),
        Endpoint("PUT", o + "/host", "Give one occurrence another host", host, t.SetHost, ov,
                 refusals=(404, 409), replay=occurrence_now),
        Endpoint("PUT", o + "/title", "Title one occurrence (from a topic, or not)", title,
                 t.SetTitle, ov, refusals=(404, 409), replay=occurrence_now),
        Endpoint("PUT", o + "/rsvp", "Say whether you are coming", rsvp, t.Rsvp, ov,
                 refusals=(404, 409), replay=occurrence_now),
        Endpoint("POST", o + "/volunteer", "Volunteer to present, or to be the backup", volunteer,
                 t.Volunteer, ov, refusals=(404, 409), replay=occurrence_now),
        Endpoint("POST", o + "/withdraw", "Stop being the presenter or the backup", withdraw,
                 t.Volunteer, ov, refusals=(404, 409), replay=occurrence_now),
        Endpoint("GET", o + "/attendance", "Who came, when, for how long (conveners)",
                 attendance, reply=t.Attendance, refusals=(404,)),
        Endpoint("GET", o + "/attendance.csv", "The attendance table as CSV (conveners)",
                 attendance_csv, reply=str, produces="text/csv", refusals=(404,)),
        Endpoint("GET", s + "/topics", "Topics members proposed, most votes first", topics,
                 reply=list[t.TopicView], refusals=(404,)),
        Endpoint("POST", s + "/topics", "Propose a topic", propose, t.ProposeTopic,
                 t.TopicView, 201, refusals=(404,), replay=topic_now),
        Endpoint("PUT", s + "/topics/{topic}/vote", "Upvote a topic", upvote,
                 reply=t.TopicView, refusals=(404,), replay=topic_now),
        Endpoint("DELETE", s + "/topics/{topic}/vote", "Take your vote back", unvote,
                 reply=t.TopicView, refusals=(404,), replay=topic_now),
    ]
