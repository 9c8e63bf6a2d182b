"""Words that must not turn into coins by themselves (data; extend freely).

Exchanges list hundreds of base assets and many are ordinary words (ONE, GAS, SUN, MOVE, PEOPLE,
ME, NOT, ACT, REAL, SAFE…). Two tiers:

* `COMMON_WORDS`: everyday English words, chat abbreviations and trading jargon. A ticker that is
  one of these counts only when written as a ticker in context: `$ONE`, `#gas`, a pair (`ONEUSDT`,
  `gas/usdt`), all-caps right before a coin word ("MOVE token", "ONE币"), or all-caps in a list of
  other coins ("BTC, ETH and OP").
* `TICKER_WORDS`: words that are well-known coins and are rarely shouted (LINK, DOT, ATOM, NEAR…):
  all-caps counts on its own; lower case needs a coin word after it ("link price", "dot coin").

Any other ticker counts in all caps (two letters or more) and in lower case from three letters.
"""

from __future__ import annotations

__all__ = ["COMMON_WORDS", "SECTOR_WORDS", "TICKER_WORDS"]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_COMMON = _words(
    """
a i ai it me on now not one up id op gas just big all any are can for get go has he her him his how if in
is my no of ok or out so the to us we who why you and but be do am at as an by see hi hey yes yeah yep nope
new top best good bad low high pump dump moon hodl fomo fud ath atl etf ceo cto usa uk eu usd cpi ppi fed
fomc gdp api app nft nfts dex cex dao defi lol omg wtf imo imho tldr asap btw fyi ta fa pnl roi apr apy tp
sl rsi macd ema sma ma atr oi vol long short buy sell bull bear etc sun move people trump real time sign
open home life win key red act safe true false zero major hold earn gold silver oil s w t c x g u v b d e
f h j k l m n o p q r y z ip ar zk om ns sd ol pro max next over off more vs via per plus bit hot ice meme
dogs dog cat alt alts sats
about above across after again against ago ahead also always among another anyone anything around away
back bank base be been before behind being below best better between beyond both bring build busy call
came car care case cash chain change chart check city clean clear close cloud code coin coins cold come
cook cookie core cost could day days dead deal dear deep did does done door down dream drop dry due each
early easy edge else end enough era even ever every eye face fact fair fall far fast fear feel few field
fight fill final find fine fire first fish five fix flat fly food free friend from front fuel full fun
fund game gave girl give glad goal goat going gone got great green group grow guess guy half hand happy
hard have head hear heart heavy help here hit hole hook hope hour house huge idea into job join keep kid
kind king know land last late later lead learn least left less let level light like line list little
live look looks lose loss lost lot love made magic main make man many mark mask mean might mind miss
mode money month most much must name near need never news nice night none note nothing number ocean
often old only order other our own page paid part party pay peace pick piece place plan play please
point power press price prime probably prompt pull push put quick quite rain rare rate rather reach
read ready reason rest right rise risk road rock room root rose round rule run safe said same save say
school sea second seed seem seen self send sense set shall share shell shift ship shop should show side
simple since site six size skin sky slow small smart snow some something soon sound space speak spec
special speed spend spot stable stand star start state stay step still stock stop story street strong
such super support sure swap sweet take talk team tell ten than thank thanks that their them then there
these they thing think this those though three through tip today together told tomorrow too took total
touch tower town trade trend tree trust try turn two type under unit until upon use used user very
view vote wait walk wall want war was watch water wave way week well went were what when where which
while white whole will wind wish with without woman word work world worth would write wrong year yet
young your ace ape arc arb band bat beam bond boost chess cyber dent dose drift duck dusk flow flux
fox gala gods grass hard hunt kite layer loom mint mon pixel portal pond pool
prom quick ray rune sand skate solo swell turbo usual vibe virtual wall
well woo zen blast blur catch chill degen dime epic frog hype jam
lever link mana mango neon nuts orca pandora pond rats roam safe saga sats
sonic tokens token troy uni unit wen whale zoo anime animal banana book bread bubble cake
candy clock crown diamond dolphin fish gem hero honey jelly lady lion magnet mars mercury moonpay nova
onyx orbit pearl penguin phoenix planet pumpkin puppy queen rabbit rocket salt shark smile snake spark
spider storm sugar tiger titan token trophy unicorn wolf yield dot atom near flow rose cake ton hype
alpha auction audio badger bake beta blue combo cow cream egg elf form forth hive nil omni reef spell
syrup towns hello data ark og init
"""
)

# Tickers that are ordinary words but, written in all caps, almost always mean the coin.
TICKER_WORDS = _words(
    """
    link dot atom near sand mana rune flow ape ton rose gala cake blur op uni arb ray magic pixel waves
    zen hype core apt etc
    """
)

COMMON_WORDS = _COMMON - TICKER_WORDS

# Sector names: "AI coins", "meme coin", "AI币" mean a category, so a coin word after them proves
# nothing. These count only as `$AI`, `#meme`, `AIUSDT` or in a list of other coins.
SECTOR_WORDS = _words("ai meme memes dog dogs cat cats game gaming defi rwa depin layer privacy")
