from tests.conftest import login


def test_coordinator_sees_dashboard(client, world):
    login(client, "coord@a.example")
    response = client.get("/nordland/")
    assert response.status_code == 200
    assert b"Arctic Minerals" in response.data
