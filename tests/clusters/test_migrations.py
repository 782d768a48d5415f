import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from imgdash.clusters.models import Cluster, Credential, compute_endpoint_fingerprint

BEFORE = [("clusters", "0001_initial")]


@pytest.mark.django_db(transaction=True)
def test_the_migration_binds_existing_tokens_to_their_clusters_endpoint(make_user):
    user = make_user("olga", "Operator")
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    try:
        old = executor.loader.project_state(BEFORE).apps
        cluster = old.get_model("clusters", "Cluster").objects.create(
            name="Prod", slug="prod", api_url="https://prod.example.com:8443/image-manager/api/v1"
        )
        old.get_model("clusters", "Credential").objects.create(
            user_id=user.pk, cluster_id=cluster.pk, token_encrypted="x", fingerprint="f"
        )
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())

    credential = Credential.objects.get()
    assert credential.endpoint_fingerprint == compute_endpoint_fingerprint(
        cluster.api_url, "", True
    )
    assert credential.is_bound_to(Cluster.objects.get())
