"""Who may use the cluster's Kubernetes API, besides the identity that created it: EKS access
entries (authentication mode API, no aws-auth ConfigMap) for two IAM roles.

- the **admin** role: the people who operate the stack. They follow the alert runbook, which
  cordons and drains nodes (cluster-scoped writes), reads any namespace's Secrets (Grafana's
  password), rolls Deployments back and repairs RBAC when a release broke it. Only
  `AmazonEKSClusterAdminPolicy` covers node and RBAC writes; `AmazonEKSAdminPolicy` is the
  Kubernetes `admin` role, namespaced objects only, and `AmazonEKSAdminViewPolicy` reads.
- the **deploy** role: what CI runs `pulumi up` with. Its job is everything the program
  creates: CustomResourceDefinitions (kube-prometheus-stack), ClusterRoles and their bindings
  and admission webhooks (every chart), the StorageClass and the Namespaces. Kubernetes refuses
  to let a principal create a ClusterRole granting rights it does not hold itself (RBAC's
  escalation check), and no narrower EKS access policy may write CRDs or ClusterRoles, so the
  deployer needs `AmazonEKSClusterAdminPolicy` too.

Both at cluster scope, each its own entry: CloudTrail and the API server's audit log then tell a
person's change from a pipeline's, and either role can be revoked alone. Anything narrower
would be a Kubernetes group bound to our own ClusterRole, which the deployer would have to
create in the first place. The IAM side (who may assume each role) is the account's, not this
stack's: the admin role for the on-call people, the deploy role for CI's OIDC trust.
"""

from __future__ import annotations

from dataclasses import dataclass

ACCESS_POLICY_PREFIX = "arn:aws:eks::aws:cluster-access-policy/"
CLUSTER_ADMIN = "AmazonEKSClusterAdminPolicy"
CLUSTER_ADMIN_POLICY = ACCESS_POLICY_PREFIX + CLUSTER_ADMIN
# The access entry keys, which pulumi-eks turns into the children's names.
ADMIN, DEPLOY = "admin", "deploy"


@dataclass(frozen=True)
class Grant:
    principal_arn: str
    policy_name: str
    scope: str = "cluster"

    @property
    def policy_arn(self) -> str:
        return ACCESS_POLICY_PREFIX + self.policy_name

    @property
    def association_key(self) -> str:
        """The association's key in the entry: a stable child name, so it is never replaced."""
        return POLICY_KEYS[self.policy_name]


# Which access policy each role's entry gets: the narrowest that still lets it do its job.
POLICIES = {ADMIN: CLUSTER_ADMIN, DEPLOY: CLUSTER_ADMIN}
POLICY_KEYS = {CLUSTER_ADMIN: "cluster-admin"}


def grants(admin_role_arn: str, deploy_role_arn: str) -> dict[str, Grant]:
    """One grant per role that is set; a role given twice gets one entry (EKS refuses two
    entries for one principal)."""
    result: dict[str, Grant] = {}
    for key, arn in ((ADMIN, admin_role_arn), (DEPLOY, deploy_role_arn)):
        if arn and arn not in {grant.principal_arn for grant in result.values()}:
            result[key] = Grant(arn, POLICIES[key])
    return result
