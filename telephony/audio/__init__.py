"""Audio of the desk line: G.711, RTP, headset or null device, call recording."""
