"""HTTP routes of a session's room-wide audio/video (the Janus SFU, proxied): what is on,
publishing from the stage, and subscribing as an attendee. See :mod:`server.media.stage`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..media import media_types as m
from .endpoints import Call, Endpoint

if TYPE_CHECKING:
    from ..media.stage import StageMedia


def media_endpoints(media: StageMedia) -> list[Endpoint]:
    async def publish(call: Call) -> m.Published:
        body: m.Publish = call.body
        return await media.publish(call.who, call.param("session"), body.jsep)

    async def subscribe(call: Call) -> m.Subscribed:
        body: m.Subscribe = call.body
        return await media.subscribe(call.who, call.param("session"), body.feed, body.video)

    async def start(call: Call) -> None:
        body: m.Start = call.body
        await media.start(call.who, call.param("session"), call.param("subscription"),
                          body.jsep)

    async def quality(call: Call) -> None:
        body: m.Quality = call.body
        await media.quality(call.who, call.param("session"), call.param("subscription"),
                            body.video)

    s = "/api/sessions/{session}/media"
    sub = s + "/subscriptions/{subscription}"
    return [
        Endpoint("GET", s, "Room-wide video of the session: on or off (no media server), "
                 "who publishes now, and whether you may (you are on stage). Attendees only",
                 lambda call: media.view(call.who, call.param("session")),
                 reply=m.MediaView, refusals=(404,)),
        Endpoint("POST", s + "/publish", "Publish your camera/microphone/screen: send a "
                 "complete offer, get Janus's answer. Only people on stage; taken off stage, "
                 "your publishing is stopped", publish, m.Publish, m.Published,
                 refusals=(404, 503)),
        Endpoint("DELETE", s + "/publish", "Stop publishing",
                 lambda call: media.unpublish(call.who, call.param("session"))),
        Endpoint("POST", s + "/subscriptions", "Receive a publisher's feed: get Janus's "
                 "offer (video false: audio only, for weak links)", subscribe, m.Subscribe,
                 m.Subscribed, 201, refusals=(404, 503)),
        Endpoint("POST", sub + "/start", "Answer the subscription's offer: media starts",
                 start, m.Start, refusals=(404, 503)),
        Endpoint("PUT", sub + "/quality", "Low-bandwidth mode: video false stops the "
                 "video (audio only), true brings it back", quality, m.Quality,
                 refusals=(404, 503)),
        Endpoint("DELETE", sub, "End a subscription",
                 lambda call: media.unsubscribe(call.who, call.param("session"),
                                                call.param("subscription")),
                 refusals=(404,)),
    ]
