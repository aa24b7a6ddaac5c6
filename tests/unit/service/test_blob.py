"""Deleting blobs as they were listed (service/blob.py)."""

from azext_hsmbackup.service import blob as blob_service
from tests.unit.fakes import Container, backup, blob


def test_a_blob_rewritten_during_the_deletion_stops_it_and_a_gone_one_is_counted():
    blobs = backup("myhsm", 2, blobs=4)
    client = Container(*blobs)
    client.blobs[blobs[3].name] = blob(blobs[3].name, etag="rewritten")
    del client.blobs[blobs[1].name]
    del client.blobs[blobs[2].name]
    client.gone_with_412.add(blobs[2].name)  # gone, answered 412 rather than 404
    assert blob_service.delete_blobs(client, blobs) == (1, 2, blobs[3].name)
