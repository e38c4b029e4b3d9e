"""Video plumbing shared by the camera ingest and the command center's media hub.

The live path carries encoded H.264 (and Opus) and decodes nothing: `source` (reading cameras),
`h264`, `frames`, `track` and `whip` (pushing), `forwarders`, `fanout` and `rtc` (the hub's
fan-out and its seams into aiortc). Pictures are encoded only where a source cannot pass through,
once per source (`encoder`, `scene`). `rtsp_server`, `simulate` and `timecode` make real RTSP test
cameras. Analysis of pictures (motion) lives beside them and is not on the live path.
Recording decodes nothing either: `recorder` (access units into segment files), `mp4`,
`recordings` (a process's recorders, `reconcile`, `retention`), `playlist` and `clip`.
"""
