"""The theming engine of one discussion question: arrival and re-theming.

Comments arrive continuously (``add``: cheap, never disturbs existing
themes); now and then the team asks for a full ``retheme`` that re-clusters
whatever nobody has curated while keeping theme ids stable. Curation
operations (``theming.curation``) and read-outs (``theming.snapshot``) are
mixed in; the bookkeeping lives in ``theming.state``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from theming.arrivals import ArrivalIndex
from theming.cluster import UNASSIGNED as NO_CLUSTER
from theming.cluster import centroid, cluster
from theming.curation import CurationMixin
from theming.dedupe import same_text_key
from theming.matching import match_clusters
from theming.model import DISCARDED, UNASSIGNED, Comment
from theming.naming import LABEL_WEIGHTS, LabelRequest, LabelWeights, choose_labels
from theming.snapshot import SnapshotMixin
from theming.splits import SplitOfferMixin
from theming.state import ASSIGN_SIMILARITY
from theming.subject import question_subject, subject_aliases

__all__ = ["ASSIGN_SIMILARITY", "RELOOK_GROWTH", "ThemeEngine"]

# A machine-named theme's label is chosen afresh (not kept while nearly the
# best) once the theme has this many times the members it had then.
RELOOK_GROWTH = 2.0


class ThemeEngine(CurationMixin, SnapshotMixin, SplitOfferMixin):
    """All theming state for one question. Synchronous and CPU-bound: the
    server must call it from a worker thread, never on the event loop, and
    serialise calls on one engine (it is not thread-safe)."""

    # -- incremental add -------------------------------------------------

    def add(self, comments: Sequence[Comment], vectors: np.ndarray | None = None) -> dict[str, Any]:
        """Place new comments without touching existing placements.

        A near-duplicate of a known comment goes where that comment is; any
        other comment joins the most similar theme if close enough, else
        waits in unassigned for the next retheme. Ids already known are
        ignored (a resend), so calling twice with the same batch is safe.
        """
        fresh: list[Comment] = []
        seen: set[str] = set()
        for comment in comments:
            if comment.id in self.comments or comment.id in seen:
                continue
            seen.add(comment.id)
            fresh.append(comment)
        if vectors is None:
            matrix = self.embedder.encode([c.text for c in fresh])
        else:
            if len(vectors) != len(comments):
                raise ValueError("one vector per comment is needed")
            first: dict[str, int] = {}
            for i, comment in enumerate(comments):
                first.setdefault(comment.id, i)
            matrix = np.asarray(vectors, dtype=np.float32)[[first[c.id] for c in fresh]]
        placed: dict[str, str] = {}
        if fresh:
            placed = self._place_new(fresh, matrix)
            self.revision += 1
            self._arrivals_revision = self.revision
        return {
            "op": "add",
            "added": len(fresh),
            "ignored_known_ids": len(comments) - len(fresh),
            "placed": placed,
        }

    def _place_new(self, fresh: list[Comment], vectors: np.ndarray) -> dict[str, str]:
        index = self._arrival_index()
        placed: dict[str, str] = {}
        for comment, vector in zip(fresh, vectors, strict=True):
            self.comments[comment.id] = comment
            self._vectors[comment.id] = vector
            leader = self._text_leader.get(same_text_key(comment.text))
            if leader is None:
                nearest, similarity = index.nearest_leader(vector)
                if similarity >= self.duplicate_similarity:
                    leader = nearest
            if leader is not None:
                self._leader[comment.id] = leader
                place = self._where[leader]
                # A copy of a discarded comment waits for a person to decide.
                place = UNASSIGNED if place == DISCARDED else place
            else:
                self._leader[comment.id] = comment.id
                self._text_leader.setdefault(same_text_key(comment.text), comment.id)
                index.add_leader(comment.id, vector)
                theme_id, similarity = index.nearest_theme(vector)
                place = UNASSIGNED
                if theme_id is not None and similarity >= self.assign_similarity:
                    place = theme_id
            self._where[comment.id] = place
            if place in self.themes and self.themes[place].locked:
                if leader is None or leader in self._joined:
                    self._joined.add(comment.id)
            index.add_to_theme(place, vector)
            placed[comment.id] = place
        return placed

    def _arrival_index(self) -> ArrivalIndex:
        """The cached index if nothing but arrivals happened since it was built."""
        if self._arrivals is None or self._arrivals_revision != self.revision:
            self._arrivals = ArrivalIndex.build(
                self.embedder.dim,
                list(self.themes),
                [(p, self._vectors[c]) for c, p in self._where.items() if p in self.themes],
                [(c, self._vectors[c]) for c, lead in self._leader.items() if lead == c],
            )
        return self._arrivals

    # -- labels ----------------------------------------------------------

    def refresh_labels(
        self, frozen: set[str] | frozenset[str] = frozenset(), *, settled: bool = False
    ) -> list[str]:
        """Relabel every machine-named theme whose members changed since its
        label was chosen; returns the ids whose label (or suggested label, or
        split offer: ``theming.splits``) changed. Labels typed by the team,
        those of ``frozen`` themes (published ones) and those of unchanged
        themes are kept, and no relabelled theme may take them; a frozen theme
        whose members changed is offered the label it would get now
        (``Theme.suggested_label``).

        While comments arrive a theme keeps its label as long as it is nearly
        the best (``theming.naming.KEEP_MARGIN``: no flicker). ``settled``: the
        question has gone quiet, so every machine-named theme gets its best
        label now, changed members or not (one change, after the stream)."""
        members = {tid: self.members(tid) for tid in self.themes}
        signatures = {tid: hash(frozenset(m)) for tid, m in members.items()}
        due = {
            tid
            for tid, theme in self.themes.items()
            if members[tid]
            and not theme.label_by_team
            and (settled or self._label_signature.get(tid) != signatures[tid])
        }
        self._label_signature = signatures
        stale, held = due - frozen, due & frozen
        changed: list[str] = []
        if stale:
            # A theme that has doubled since its label was chosen is looked at
            # afresh: its first members may no longer say what most of it says.
            grown = {
                t for t in stale if len(members[t]) >= RELOOK_GROWTH * self._label_size.get(t, 0)
            }
            fresh = stale if settled else grown
            labels = self.choose_labels(stale, members, fresh=fresh)
            changed = [tid for tid, label in labels.items() if self.themes[tid].label != label]
            for tid, label in labels.items():
                if tid in fresh or tid in changed:
                    self._label_size[tid] = len(members[tid])
                if tid in changed:  # a team member who saw the old label acts on an old version
                    self.themes[tid].version += 1
                self.themes[tid].label, self.themes[tid].suggested_label = label, None
        if held:
            changed += self._suggest(held, members)
        return changed + self.refresh_split_offers(frozen, members)

    def _suggest(self, held: set[str], members: dict[str, list[str]]) -> list[str]:
        """The label each ``held`` theme would get now, offered beside the one
        the screens show (a published theme's label changes only by a team
        step); returns the ids whose suggestion changed."""
        best = self.choose_labels(held, members)  # none while the label is nearly the best
        changed = []
        for tid, label in best.items():
            theme = self.themes[tid]
            suggestion = None if label == theme.label else label
            if suggestion != theme.suggested_label:
                theme.suggested_label = suggestion
                changed.append(tid)
        return changed

    def choose_labels(
        self,
        stale: set[str],
        members: dict[str, list[str]] | None = None,
        weights: LabelWeights = LABEL_WEIGHTS,
        fresh: set[str] | frozenset[str] = frozenset(),
    ) -> dict[str, str]:
        """Fresh labels for the ``stale`` themes (largest first), the others'
        labels reserved and their centres the siblings a label must not fit;
        a theme keeps its label while nearly the best, unless it is one of
        ``fresh``."""
        members = members or {tid: self.members(tid) for tid in self.themes}
        centres = {
            tid: centroid(np.stack([self._vectors[c] for c in members[tid]]))
            for tid in self.themes
            if members[tid]
        }
        requests = [
            LabelRequest(
                tid,
                centres[tid],
                self._central_texts(members[tid]),
                current=self.themes[tid].label if tid not in fresh else None,
                fallback=self.themes[tid].label,
            )
            for tid in sorted(stale, key=lambda t: (-len(members[t]), t))
        ]
        reserved = [t.label for tid, t in self.themes.items() if tid not in stale]
        everyone = [self._vectors[c] for c, place in self._where.items() if place != DISCARDED]
        subject, aliases = self._subject_now()
        return choose_labels(
            requests,
            self.embedder.encode,
            question=self.question,
            reserved=reserved,
            siblings=[c for tid, c in centres.items() if tid not in stale],
            everyone=centroid(np.stack(everyone)) if everyone else None,
            subject=subject,
            aliases=aliases,
            weights=weights,
        )

    def subject(self) -> str | None:
        """What the question is about (``theming.subject``)."""
        return self._subject_now()[0]

    def aliases(self) -> tuple[str, ...]:
        """Other names the comments give the subject ("death penalty")."""
        return self._subject_now()[1]

    def _subject_now(self) -> tuple[str | None, tuple[str, ...]]:
        """The subject and its aliases, found again once the question has grown
        by a tenth since they were last looked for."""
        count = sum(1 for place in self._where.values() if place != DISCARDED)
        key, found, _ = self._subject
        if key[0] != self.question or not key[1] <= count <= key[1] * 1.1:
            # Texts listed only when looked for again: this runs at every relabel.
            texts = [c.text for cid, c in self.comments.items() if self._where[cid] != DISCARDED]
            found = question_subject(self.question, texts)
            aliases = subject_aliases(found, texts, self.embedder.encode) if found else ()
            self._subject = ((self.question, count), found, aliases)
        return self._subject[1:]

    # -- full re-theme ---------------------------------------------------

    def retheme(self) -> dict[str, Any]:
        """Re-cluster everything nobody curated; keep ids of continuing themes.

        Locked themes keep the members they had when a person last acted on
        them and may gain uncurated comments that sit closer to them (to those
        members) than to any new cluster. A comment the machine added to a
        locked theme since (``_joined``) is placed afresh at each re-cluster:
        kept as a member for good, it drew the next arrivals after it and a
        theme published early grew into a catch-all (``--publish-at`` in
        ``bench/theming_live_sim.py``). Those that leave are listed under
        ``released``. Hand-placed and discarded comments never move.
        """
        before = {tid: set(self.members(tid)) for tid in self.themes}
        unassigned_before = len(self.unassigned())
        locked = [tid for tid, t in self.themes.items() if t.locked]
        free = [
            cid
            for cid, place in self._where.items()
            if place != DISCARDED
            and cid not in self._hand_placed
            and (not (place in self.themes and self.themes[place].locked) or cid in self._joined)
        ]
        new_place = self._cluster_free(free, locked)
        self._apply_clusters(new_place, before)
        self._joined = {cid for cid, target in new_place.items() if isinstance(target, str)}
        self.revision += 1
        after = {tid: set(self.members(tid)) for tid in self.themes}
        return {
            "op": "retheme",
            "retired_into": {
                tid: self._successor(members) for tid, members in before.items() if tid not in after
            },
            "themes_before": len(before),
            "themes_after": len(after),
            "kept": sorted(t for t in after if t in before),
            "new": sorted(t for t in after if t not in before),
            "retired": sorted(t for t in before if t not in after),
            "changed": sorted(t for t in after if t in before and after[t] != before[t]),
            "released": {
                tid: sorted(gone) for tid in locked if (gone := before[tid] - after.get(tid, set()))
            },
            "unassigned_before": unassigned_before,
            "unassigned_after": len(self.unassigned()),
        }

    def _successor(self, members: set[str]) -> str | None:
        """The theme most of a retired theme's comments went to (None: unassigned)."""
        places = [self._where[c] for c in members if self._where.get(c) in self.themes]
        return max(set(places), key=lambda t: (places.count(t), t)) if places else None

    def _cluster_free(self, free: list[str], locked: list[str]) -> dict[str, int | str]:
        """Cluster label (int) or locked theme id (str) for each free comment:
        it joins the locked theme nearest to it when that theme's centre (of
        the members a person left there, not those the machine added) is
        closer than its own cluster's. Clustering the locked themes' members
        with the free ones instead, or letting whole clusters join a locked
        theme whose centre is near theirs, kept the catch-alls (measured with
        ``--publish-at`` in ``bench/theming_live_sim.py``, docs/benchmarks.md)."""
        groups: dict[str, list[str]] = {}
        for cid in free:
            groups.setdefault(self._leader[cid], []).append(cid)
        rows = list(groups.values())
        result: dict[str, int | str] = {}
        if not rows:
            return result
        matrix = np.stack([self._vectors[r[0]] for r in rows])
        weights = np.array([len(r) for r in rows], dtype=float)
        labels = cluster(matrix, weights, self.params)
        row_target: list[int | str] = [int(x) for x in labels]
        locked_centroids = [
            (tid, centroid(np.stack([self._vectors[c] for c in core])))
            for tid in locked
            if (core := [c for c in self.members(tid) if c not in self._joined])
        ]
        if locked_centroids:
            lc = np.stack([c for _, c in locked_centroids])
            cluster_centroids = {
                int(k): centroid(matrix[labels == k], weights[labels == k])
                for k in set(labels.tolist())
                if k != NO_CLUSTER
            }
            for r, label in enumerate(labels):
                sims = lc @ matrix[r]
                best = int(np.argmax(sims))
                own = (
                    float(cluster_centroids[int(label)] @ matrix[r])
                    if label != NO_CLUSTER
                    else -1.0
                )
                if sims[best] >= self.assign_similarity and sims[best] > own:
                    row_target[r] = locked_centroids[best][0]
        for row, target in zip(rows, row_target, strict=True):
            for cid in row:
                result[cid] = target
        return result

    def _apply_clusters(self, new_place: dict[str, int | str], before: dict[str, set[str]]) -> None:
        clusters: dict[int, set[str]] = {}
        for cid, target in new_place.items():
            if isinstance(target, int) and target != NO_CLUSTER:
                clusters.setdefault(target, set()).add(cid)
        numbers = sorted(clusters)
        old_ids = [tid for tid, t in self.themes.items() if not t.locked]
        pairs = match_clusters(
            [clusters[k] for k in numbers],
            [before[tid] for tid in old_ids],
            self._centroids([clusters[k] for k in numbers]),
            self._centroids([before[tid] for tid in old_ids]),
        )
        cluster_theme: dict[int, str] = {}
        for index, number in enumerate(numbers):
            if index in pairs:
                cluster_theme[number] = old_ids[pairs[index]]
            else:
                cluster_theme[number] = self._new_theme(clusters[number]).id
        for cid, target in new_place.items():
            if isinstance(target, str):
                self._where[cid] = target
            elif target == NO_CLUSTER:
                self._where[cid] = UNASSIGNED
            else:
                self._where[cid] = cluster_theme[target]
        kept = set(cluster_theme.values())
        for tid in old_ids:
            if tid not in kept:
                del self.themes[tid]
        for tid, theme in self.themes.items():
            if tid in before and set(self.members(tid)) != before[tid]:
                theme.version += 1
