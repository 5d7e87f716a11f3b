"""The audit of reads: who read which dossier, from which desk, when, and through what.

Every hub path that shows a dossier's content to a desk calls :func:`record_read` in
its own unit of work (so the row commits with the reply, or neither), and turns a
refusal into :class:`ReadRefused`, which :class:`app.hub.service.HubService` records
in a transaction of its own (the refused unit is rolled back) before answering
``not_found``. New read paths (exports, searches, history) do the same::

    from app.hub.read_audit import record_read, refused_read

    d = ...  # the dossier, after the role's visibility check
    record_read(u.s, u.actor, u.actor.desk, d.id, "dossier.export", at=u.now)

    except FlowError as exc:  # the visibility check said no
        raise refused_read(exc, dossier_id, "dossier.export") from None

The recorder is the kernel's seam (``app.hub.read_audit``, which the flow's own read
path uses) and the table sits with the domain's (``app.db.audit``): the kernel needs
neither this package nor its queries and intents (``app.audit.query``, ``.hub``).
This package imports nothing itself: the desk imports its intents
(``app.audit.protocol``) without the table or the recorder.
"""
