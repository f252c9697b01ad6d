"""What deploying the operator needs that is checked or generated rather than written by hand.

* ``rbac``: the operator's RBAC rules, one per thing it does, and the least-privilege check of Roles.
* ``workload``: the hardening check of the operator's Deployment and the environment it passes.
* ``argocd``: the Argo CD ``health.lua`` checks rendered from shared parts, and the argocd-cm patch.
* ``health``: Argo CD's verdict on objects computed locally (the shipped Lua run with Lua 5.1).

Command line (``python -m okr_operator.deploy``, see ``__main__``)::

    python -m okr_operator.deploy health-lua --write   # render config/argocd/okr.dev/*/health.lua from lua/
    python -m okr_operator.deploy argocd-cm --write    # rewrite config/argocd/argocd-cm-patch.yaml
    python -m okr_operator.deploy argocd-cm --check    # exit 1 when the committed file is stale
    kubectl get slo -A -o yaml | python -m okr_operator.deploy health -   # Argo CD's verdict, locally
"""
