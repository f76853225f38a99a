from zpanel_deployer import labels as L


def test_zpanel_labels_name_app_deployment_commit_and_replica() -> None:
    assert L.zpanel_labels(app_id="a1", app_name="web", deployment_id="d1", commit="abc", replica=2) == {
        "zpanel.managed": "true",
        "zpanel.app": "a1",
        "zpanel.app-name": "web",
        "zpanel.deployment": "d1",
        "zpanel.commit": "abc",
        "zpanel.role": "app",
        "zpanel.replica": "2",
    }


def test_zpanel_labels_of_a_one_off_container_have_no_replica_and_empty_commit() -> None:
    assert L.zpanel_labels(app_id="a1", app_name="web", deployment_id="d1", commit=None, role="pre-deploy") == {
        "zpanel.managed": "true",
        "zpanel.app": "a1",
        "zpanel.app-name": "web",
        "zpanel.deployment": "d1",
        "zpanel.commit": "",
        "zpanel.role": "pre-deploy",
    }


def test_traefik_labels_for_an_https_domain_follow_coolify_scheme() -> None:
    labels = L.traefik_labels(
        app_id="a1", domains=["example.com"], port=8080, network="zpanel", certresolver="letsencrypt"
    )
    assert labels == {
        "traefik.enable": "true",
        "traefik.http.middlewares.gzip.compress": "true",
        "traefik.http.middlewares.redirect-to-https.redirectscheme.scheme": "https",
        "traefik.docker.network": "zpanel",
        "traefik.http.routers.http-0-a1.entryPoints": "http",
        "traefik.http.routers.http-0-a1.rule": "Host(`example.com`) && PathPrefix(`/`)",
        "traefik.http.routers.http-0-a1.service": "http-0-a1",
        "traefik.http.services.http-0-a1.loadbalancer.server.port": "8080",
        "traefik.http.routers.http-0-a1.middlewares": "redirect-to-https",
        "traefik.http.routers.https-0-a1.entryPoints": "https",
        "traefik.http.routers.https-0-a1.rule": "Host(`example.com`) && PathPrefix(`/`)",
        "traefik.http.routers.https-0-a1.service": "https-0-a1",
        "traefik.http.routers.https-0-a1.middlewares": "gzip",
        "traefik.http.routers.https-0-a1.tls": "true",
        "traefik.http.routers.https-0-a1.tls.certresolver": "letsencrypt",
        "traefik.http.services.https-0-a1.loadbalancer.server.port": "8080",
    }


def test_traefik_labels_for_a_plain_http_domain_with_a_path_have_no_tls_router() -> None:
    assert L.traefik_labels(app_id="a1", domains=["http://Example.com/api/"], port=80) == {
        "traefik.enable": "true",
        "traefik.http.middlewares.gzip.compress": "true",
        "traefik.http.middlewares.redirect-to-https.redirectscheme.scheme": "https",
        "traefik.http.routers.http-0-a1.entryPoints": "http",
        "traefik.http.routers.http-0-a1.rule": "Host(`example.com`) && PathPrefix(`/api`)",
        "traefik.http.routers.http-0-a1.service": "http-0-a1",
        "traefik.http.services.http-0-a1.loadbalancer.server.port": "80",
        "traefik.http.routers.http-0-a1.middlewares": "gzip",
    }


def test_second_domain_gets_index_1_routers() -> None:
    labels = L.traefik_labels(app_id="a1", domains=["a.test", "b.test"], port=80)  # no resolver unless asked
    assert labels["traefik.http.routers.https-1-a1.rule"] == "Host(`b.test`) && PathPrefix(`/`)"
    assert "traefik.http.routers.https-1-a1.tls.certresolver" not in labels


def test_no_domain_no_traefik_labels() -> None:
    assert L.traefik_labels(app_id="a1", domains=[], port=80) == {}


def test_label_filters() -> None:
    assert L.label_filters({"zpanel.app": "a1", "zpanel.replica": "0"}) == [
        "label=zpanel.app=a1",
        "label=zpanel.replica=0",
    ]
