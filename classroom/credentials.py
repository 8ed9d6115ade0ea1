"""Readable generated usernames and passwords for students without email."""

import secrets

# Short, common, unambiguous words children can read and type.
WORDS = """
acorn amber apple arrow aspen badge bamboo basil beacon berry birch bison
blossom bramble breeze brook cabin cactus camel canoe canyon carrot cedar
cherry chess cider clover cobalt comet copper coral cosmos cotton crane
crystal daisy delta dingo dolphin dragon drum eagle echo ember falcon fern
fig finch fjord flint forest fox galaxy garnet gecko ginger glacier grape
harbor hazel heron hippo honey island ivy jade jasmine kayak kiwi koala
lagoon lantern lemon lilac lime lotus lynx magnet mango maple meadow melon
mint moose nectar nova oak ocean olive orbit otter owl panda papaya pebble
pepper pine planet plum pony prairie puffin quartz quill rabbit raven reef
river robin rocket saffron sage salmon sequoia shell sierra sparrow spruce
squid star summit sunny swan tango thistle thunder tiger topaz tulip tundra
turtle valley velvet violet walnut willow wombat yak zebra zephyr
""".split()


def generate_username() -> str:
    return f"{secrets.choice(WORDS)}-{secrets.choice(WORDS)}-{secrets.randbelow(90) + 10}"


def generate_password() -> str:
    # ~37 bits: three words and a number, easy to copy from a printed card.
    words = [secrets.choice(WORDS) for _ in range(3)]
    return f"{'-'.join(words)}-{secrets.randbelow(900) + 100}"
