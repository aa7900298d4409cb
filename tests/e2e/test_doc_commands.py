"""Every shell block of README.md and docs/ that talks to the local stack, pasted as a newcomer
would paste it, one terminal per file, against both stacks: each call must succeed (curl fails
on any HTTP error), each example of a refusal must get its error code, and what the tour
promises must show."""

import urllib.parse

import pytest

from doc_blocks import ROOT, blocks, documents, run, runs

DOCUMENTS = [path for path in documents() if any(runs(block, watch=True) for block in blocks(path))]
# What a document's run must show, beyond each block succeeding.
SHOWS = {
    "README.md": ['"created"', '"unread_count": 1', '"message": "Dinner at eight?"',
                  '"text": "Dinner at eight?"', '"sender_display_name": "Alice"'],
    "docs/api.md": ["Minutes of the meeting", '"subscribed":true', '"unsubscribed":true', "<title>"],
    "docs/sign-in.md": ['"user_id":"8:acs:'],
}


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: str(path.relative_to(ROOT)))
def test_every_command_a_document_shows_runs_against_the_local_stack(stack, document):
    base, logs = stack[0], stack[1]
    env = {"API": base, "LOGS": str(logs), "PORT": str(urllib.parse.urlsplit(base).port)}
    status, outputs, errors = run(document, env, watch=stack.kind == "watch")
    name = str(document.relative_to(ROOT))
    assert status == 0, f"{name}: a block failed after {list(outputs)[-1:]}:\n{errors[-3000:]}"
    ran = [block for block in blocks(document) if runs(block, stack.kind == "watch")]
    assert list(outputs) == [block.where for block in ran]
    for block in ran:
        for code in block.error_codes():
            assert f'"code":"{code}"' in outputs[block.where], f"{block.where} did not answer {code}"
    everything = "".join(outputs.values())
    for text in SHOWS.get(name, []):
        assert text in everything, f"{name} never showed {text!r}"
