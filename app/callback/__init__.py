"""The OSNP call-back workflow: who to call, in which order, what they answered.

Core only (no Qt): the plan of targets built from the dossier and the directory,
the attempts and their structured outcomes, the appointment that follows, the
scripts read to doctors and patients, reminders and deadlines, the letter to the
treating doctor and the billing hint. ``app.callback.hub`` puts it on the wire.
"""
