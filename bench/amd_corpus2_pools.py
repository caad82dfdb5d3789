"""The voices and texts of the broad corpus (bench/amd_corpus2.py), one pool per half.

The split is strict: no espeak-ng base voice (accent), no variant (timbre) and no sentence is in
both halves, so a detector tuned on "tune" has never heard a "held-out" voice or text.
``check_split`` asserts it. A voice is "<base>+<variant>"; women's variants are listed apart so
each half has both sexes.

A human text is a tuple of phrases, each rendered on its own with a pause between them (the
hesitant "Er, ... hello, ... Mark speaking."; "Hullo? ... Oh hi, sorry, I was just out in the
garden."). A machine greeting is a tuple of sentences with short pauses; long greetings join
several of ``LONG`` with pauses up to 1.5 s.

A third pool, "train", is for training only (bench/amd_content.py): the tune half's voices with
texts of its own, none of them the held-out half's (``check_split`` asserts that too), so a
model that learns from what is said has more than the tune half's ten greetings to learn from
and the held-out half stays unheard. It is never scored. Its texts were written after the
held-out half's had been read (docs/speech-and-detection.md, h-content): none is the same, some
are of the same sort.
"""

from dataclasses import dataclass, replace


@dataclass(frozen=True, slots=True)
class Pool:
    bases: tuple[str, ...]
    female: tuple[str, ...]
    male: tuple[str, ...]
    short: tuple[str, ...]  # a short answer: "Hello?"
    hesitant: tuple[tuple[str, ...], ...]
    more: tuple[tuple[str, ...], ...]  # a greeting, then more talk
    greetings: tuple[tuple[str, ...], ...]  # machine greetings (a few sentences)
    long: tuple[str, ...]  # sentences joined into 20-40 s greetings
    babble: tuple[str, ...]  # what people behind the callee say


POOLS = {
    "tune": Pool(
        bases=("en", "en-us", "en-gb-scotland", "en-029"),
        female=("f1", "f3", "f5", "Annie", "belinda", "steph", "anika"),
        male=("m1", "m3", "m5", "m7", "adam", "david", "john", "max", "paul", "robert"),
        short=(
            "Hello?",
            "Hello.",
            "Yes?",
            "Hi.",
            "Yeah?",
            "Speaking.",
            "Hi there.",
            "Hello, yes?",
            "Morning.",
            "Yep, hello.",
            "Hello, Jones residence.",
            "Hi, who's this?",
            "Hello, Sarah speaking.",
            "Yes, who is it?",
        ),
        hesitant=(
            ("Er,", "hello,", "Mark speaking."),
            ("Um,", "yes,", "hello?"),
            ("Oh,", "er, hello?"),
            ("Hello,", "um,", "this is Karen."),
            ("Er, hi,", "yes?"),
            ("Ah,", "hello again,", "who's calling?"),
        ),
        more=(
            ("Hello?", "Oh hi, sorry, I was just out in the garden."),
            ("Hello?", "Sorry, hang on, let me turn the telly down."),
            ("Yes?", "I've only just got in, who is this please?"),
            ("Hi.", "Sorry, I was in the shower, can you call back in ten minutes?"),
            ("Hello?", "Is that the garage? I was expecting your call about the car."),
            ("Hello.", "Oh, I thought you were my sister, she said she would ring."),
        ),
        greetings=(
            ("Hi, you've reached John and Mary.", "Please leave a message after the tone."),
            ("Hello, this is Peter.", "I can't take your call right now.", "Leave a message."),
            ("The person you are calling is not available.", "Please record your message."),
            ("Hi, it's Dave.", "Leave a message."),
            ("You have reached the voicemail of Anna Green.", "Speak after the beep."),
            ("Thanks for calling Acme Dental.", "Our office is closed.", "Please call back."),
            ("Hey, it's Sam.", "Can't talk now, text me or leave a message."),
            ("Hello, you're through to the Patels.", "We'll get back to you soon."),
            ("Welcome to the mailbox of 0 1 6 1 4 9 6.", "Please leave a message."),
            ("Hi, Tom here.", "I'm probably at work.", "Leave your number and I'll call back."),
        ),
        long=(
            "Hello and thank you for calling the surgery reception at Park Lane medical centre.",
            "Our opening hours are from eight in the morning until half past six in the evening.",
            "If this is a medical emergency please hang up and dial nine nine nine immediately.",
            "For repeat prescriptions please use the online service or the box in reception.",
            "To book an appointment with a nurse please call back after ten in the morning.",
            "Test results are available after two o'clock on weekdays only.",
            "If you would like to cancel an appointment please leave your name and date of birth.",
            "Our out of hours service can be reached by dialling one one one.",
            "Please note that calls may be recorded for training purposes.",
            "We are sorry that nobody is available to take your call at the moment.",
            "Please leave a detailed message including your telephone number.",
            "A member of the team will return your call as soon as possible.",
        ),
        babble=(
            "Did you see the match last night, it was brilliant.",
            "I told her we'd be there by six but the traffic was awful.",
            "Can you pass me the salt please.",
            "No, the other one, the blue one on the shelf.",
            "We should book the holiday before the prices go up.",
            "He said the meeting was moved to Thursday afternoon.",
            "I'm going to make a cup of tea, do you want one.",
            "The kids are coming round for dinner on Sunday.",
        ),
    ),
    "held-out": Pool(
        bases=("en-gb-x-rp", "en-us-nyc", "en-gb-x-gbclan", "en-gb-x-gbcwmd"),
        female=("f2", "f4", "Alicia", "Andrea", "linda", "steph2", "aunty"),
        male=("m2", "m4", "m6", "Alex", "Andy", "benjamin", "caleb", "edward", "Lee", "quincy"),
        short=(
            "Hullo?",
            "Hiya.",
            "Yes, hello?",
            "Hello there.",
            "Who's this?",
            "Good morning.",
            "Hi, yes?",
            "Hello, who is it?",
            "Yeah, speaking.",
            "Hello, Smith's.",
            "Evening.",
            "Hello, Mike here.",
            "Yes, can I help?",
            "Hi, it's Jo.",
        ),
        hesitant=(
            ("Erm,", "hullo,", "Paul speaking."),
            ("Uh,", "hiya,", "who's that?"),
            ("Ooh,", "uh, hullo?"),
            ("Hiya,", "erm,", "this is Liz."),
            ("Uh, yeah,", "hullo?"),
            ("Hmm,", "hullo,", "who is it?"),
        ),
        more=(
            ("Hello there?", "Oh hello, sorry, I was just upstairs with the baby."),
            ("Hiya.", "Sorry, the dog was barking, what did you say?"),
            ("Yeah, hello?", "Hang on, I'm just driving, I'll pull over."),
            ("Hullo?", "Oh, is that about the parcel? It hasn't come yet."),
            ("Good afternoon.", "Sorry, I'm in the middle of cooking, be quick."),
            ("Hullo.", "I've been waiting all morning for someone to ring me back."),
        ),
        greetings=(
            ("Hi, this is Lucy.", "I'm away from my phone.", "Leave a message after the beep."),
            ("You've reached the Wilsons.", "Sorry we missed you."),
            ("This mailbox is full.", "Please try again later."),
            ("Hey, Chris here.", "Drop me a message and I'll ring you back."),
            ("Good day, you've reached Baker and Sons.", "Please state your business."),
            ("The number you have dialled cannot take your call.", "Record after the tone."),
            ("Hello, Helen and Mike aren't in.", "Leave your name and number please."),
            ("Hi, you've got Jamie's phone.", "You know what to do."),
            ("Welcome to Orange voicemail.", "The caller is unavailable."),
            ("Hello, it's Gran.", "I'm at bingo, ring me later love."),
        ),
        long=(
            "Good afternoon, you have reached the customer service line of Northern Water.",
            "Our lines are open Monday to Friday from nine until five, and Saturday mornings.",
            "To report a leak or a burst pipe, please call our free emergency number instead.",
            "You can also pay your bill or update your details on our website at any time.",
            "If you are calling about a new connection, please have your postcode ready.",
            "We are currently experiencing a high volume of calls, thank you for your patience.",
            "Please do not leave your bank details in this message for your own security.",
            "After the tone, say your full name, your account number and the reason for calling.",
            "We aim to return all messages within two working days of receiving them.",
            "Customers with a hearing impairment can use our text relay service.",
            "Thank you for waiting, your message is important to us.",
            "You may hang up at any time once your message has been recorded.",
        ),
        babble=(
            "Where did you put the car keys, I can't find them anywhere.",
            "She's starting at the new school in September.",
            "That film was far too long if you ask me.",
            "Turn it up a bit, I love this song.",
            "We ran out of milk again this morning.",
            "Are you coming to the pub later with the others.",
            "The bus was twenty minutes late again today.",
            "I think it's going to rain all weekend.",
        ),
    ),
}

# Texts only: the tune half's voices and babble. Phrases the tune half says too (a filler, a
# "Hello?" before more talk) are allowed; none may be the held-out half's.
POOLS["train"] = replace(
    POOLS["tune"],
    short=(
        "Hello, yes please.",
        "Yes, hello there.",
        "Hello, Davies.",
        "Hi, Claire here.",
        "Yo.",
        "Afternoon.",
        "Hello, who's calling?",
        "Yes, speaking.",
        "Hello, can I help you?",
        "Hey.",
        "Hello, this is Ian.",
        "Hi, hello?",
        "Hello, Brown's.",
        "Yes, go ahead.",
        "Hello, it's Ruth.",
        "Hello, who's there?",
        "Yeah, hi.",
        "Hello, Flat two.",
        "Hello, Martin.",
        "Yes, Anna here.",
        "Hello, who's speaking?",
        "Hi, Patel's.",
        "Hello, good afternoon.",
        "Yeah, who's calling?",
        "Hello, the Hendersons.",
        "Hello, Kelly speaking.",
        "Yep?",
        "Hello, hello?",
    ),
    hesitant=(
        ("Ehm,", "yes,", "hello?"),
        ("Oh,", "hi,", "who's on the line?"),
        ("Eh,", "hello,", "Jane speaking."),
        ("Um,", "hi there,", "sorry?"),
        ("Er,", "yeah,", "hello?"),
        ("Ah,", "yes,", "this is Dan."),
        ("Oh,", "um, hi?"),
        ("Hello,", "er,", "who's that then?"),
    ),
    more=(
        ("Hello?", "Sorry, I couldn't find my phone, who is it?"),
        ("Yes?", "Oh, is that the doctor's? I was waiting for the results."),
        ("Hi.", "Can you speak up, it's really noisy in here."),
        ("Hello?", "Oh hang on, I'll just take this outside."),
        ("Hello, yes?", "Sorry, I've got my hands full, what is it about?"),
        ("Hello.", "Is that the school? Is everything all right with Tom?"),
        ("Hi.", "I'm just on the train, the signal might go."),
        ("Hello?", "Who gave you this number? I don't recognise it."),
        ("Yeah?", "Sorry, I was asleep, what time is it?"),
        ("Hello.", "Oh, you're the plumber, are you still coming today?"),
        ("Hi.", "Look, I'm really busy right now, what do you want?"),
        ("Hello?", "Mum, is that you? The line is terrible."),
        ("Yes?", "I already told your colleague I'm not interested."),
        ("Hello?", "Sorry, I've just walked in the door, give me a second."),
        ("Hello?", "Oh sorry, I was just putting the kids to bed."),
        ("Yes?", "Who is this? I didn't catch that."),
        ("Hi.", "Sorry, can you hold on a second, someone's at the door."),
        ("Hello?", "Ah, is that the bank? I've been meaning to call you."),
        ("Hello.", "Sorry, I'm at work, can you make it quick?"),
        ("Yeah?", "Oh, I thought it was my brother calling back."),
        ("Hello?", "Sorry, I was on the other line, what's this about?"),
        ("Hi.", "Is this about the delivery? Nobody came yesterday."),
        ("Hello?", "I can barely hear you, you're breaking up."),
        ("Hello, yes.", "I'm just in the car park, go on."),
        ("Hello?", "Oh hi, is that the hospital? About my appointment?"),
        ("Hi.", "Sorry, just finishing my lunch, what can I do for you?"),
    ),
    greetings=(
        ("Hi, you've reached Emma.", "I can't get to the phone, leave a message."),
        ("Hello, this is the Roberts family.", "Please leave your message after the tone."),
        ("You have reached the voice mailbox of", "seven seven zero, one two three."),
        ("Sorry, I can't answer right now.", "Please leave a short message."),
        ("Hi, this is Ben.", "Leave your name and number and I'll get back to you."),
        ("The mobile phone you are calling is switched off.", "Please ring later."),
        ("Thank you for calling Smith Plumbing.", "We are out on a job, leave a message."),
        ("Hey, it's Kate.", "I'm not around, you know the drill."),
        ("Hello, you have reached Green Lane Garage.", "We're closed, call back tomorrow."),
        ("This is Sarah's phone.", "Leave a message and I'll call you back."),
        ("Nobody is available to take your call.", "Please speak after the tone."),
        ("Hi, you've called Rob and Jen.", "We're not in, leave a message."),
        ("Your call has been forwarded to an automated voice messaging system.", "Please record."),
        ("Hello, Jack here.", "I'm on holiday until Monday."),
        ("You've reached the office of Doctor Hill.", "Please leave your details."),
        ("Hi, I'm busy right now.", "Send me a text instead."),
        ("Hello, this is Anne.", "Sorry I missed you, I'll ring you back."),
        ("The subscriber cannot be reached.", "Please call again later."),
        ("Hiya, it's Mel.", "Leave a message after the beep, cheers."),
        ("Thank you for calling.", "All of our staff are busy.", "Leave a message."),
        ("Hello, you're through to Dave and Sue.", "Leave us a message."),
        ("Hi, this number is for work calls only.", "Leave a message."),
        ("Good morning, you have reached reception.", "We will return your call."),
        ("Welcome to the messaging service.", "The person is not available."),
        ("Hey, Matt here.", "Can't pick up, leave a voicemail."),
        ("Hello, you've reached Fiona.", "I'm probably driving, speak after the tone."),
        ("Hi, this is Olivia.", "I'm in a meeting, leave a message and I'll call back."),
        ("You're through to the voicemail of Mark Taylor.", "Please leave a message."),
        ("Hello, Harrison Electrical.", "We can't come to the phone, please leave your details."),
        ("Hi, it's Priya.", "I'm not free right now.", "Talk after the beep."),
        ("The person you have called is busy.", "Please leave a message after the tone."),
        ("Hello, you've reached the Clarke household.", "Leave a message and we'll ring you."),
        ("Sorry, I'm unavailable.", "Leave a message, or send me an email."),
        ("You've reached Sunshine Nursery.", "We're with the children, please leave a message."),
        ("Hi, Nick here.", "I'm out of the office until Friday."),
        ("This is the voicemail for extension two four seven.", "Please speak after the tone."),
        ("Hello, this is Grace.", "I'll get back to you as soon as I can."),
        ("Thank you for calling Bright Smile Dentistry.", "The practice is now closed."),
        ("Hey, you've got Liam.", "Leave a message."),
        ("Hello, the Millers can't answer right now.", "Please leave your number."),
        ("Your call cannot be taken at the moment.", "Please leave a message after the tone."),
        ("Hi, this is Zoe's phone.", "I'm probably asleep, leave a message."),
        (
            "Good evening, you've reached Parkside Vets.",
            "For emergencies call our out of hours line.",
        ),
        ("Hello, this is Alan.", "I'm away from my desk, please leave a message."),
        ("Hi, it's Becky and Joe.", "We're out, leave a message after the beep."),
        ("The number you are calling is not in service at the moment.", "Please try later."),
        ("Hello, Fairview Estate Agents.", "Our office hours are nine to five."),
        ("Hiya, it's Danny.", "Can't talk, I'll ring you later."),
        ("You have reached the mailbox of", "oh seven nine, four four one."),
        ("Hello, I can't take your call.", "Please say your name and why you rang."),
        ("Hi, this is Rachel from accounts.", "I'm on annual leave this week."),
        ("Thank you for calling.", "Please hold, or leave a message after the tone."),
        ("Hey, Sophie here.", "I'll call you back, promise."),
        ("Hello, you've reached Mr and Mrs Evans.", "Please leave a message."),
        ("This phone is switched off.", "Please send a text message."),
        ("Hi, you've reached Connor.", "Leave a voicemail and I'll get back to you."),
    ),
    long=(
        "Thank you for calling the booking line of the Riverside leisure centre.",
        "Our reception is open every day from seven in the morning until ten at night.",
        "For swimming lesson enquiries please visit our website for the latest timetable.",
        "If you are calling to cancel a class please leave your membership number.",
        "Unfortunately all of our advisers are currently busy with other customers.",
        "Please leave your name, your telephone number and a short message.",
        "We will do our best to return your call on the same working day.",
        "Please be aware that messages left after six are answered the next morning.",
        "For lost property please speak to the duty manager at the front desk.",
        "Thank you for your call and have a lovely day.",
    ),
)


def voices(pool: Pool) -> tuple[list[str], list[str]]:
    """(women's voices, men's voices) of a half: every base with every variant."""
    women = [f"{base}+{variant}" for base in pool.bases for variant in pool.female]
    men = [f"{base}+{variant}" for base in pool.bases for variant in pool.male]
    return women, men


def all_voices(pool: Pool) -> set[str]:
    women, men = voices(pool)
    return {*women, *men}


def sentences(pool: Pool) -> set[str]:
    """Every phrase a half can say, normalised (case, spaces and final punctuation aside)."""
    phrases = [*pool.short, *pool.long, *pool.babble]
    for group in (*pool.hesitant, *pool.more, *pool.greetings):
        phrases += group
    return {normalise(p) for p in phrases}


def normalise(text: str) -> str:
    return " ".join(text.lower().strip(" ?.!,").split())


def check_split() -> str:
    """Assert that the halves share no base voice, variant or phrase; a line saying so."""
    tune, held = POOLS["tune"], POOLS["held-out"]
    shared_bases = set(tune.bases) & set(held.bases)
    shared_variants = {v.lower() for v in tune.female + tune.male} & {
        v.lower() for v in held.female + held.male
    }
    shared_texts = sentences(tune) & sentences(held)
    trained = sentences(POOLS["train"]) & sentences(held)
    assert not all_voices(POOLS["train"]) & all_voices(held), "train pool has held-out voices"
    assert not trained, f"texts in the train pool and the held-out half: {trained}"
    assert not shared_bases, f"base voices in both halves: {shared_bases}"
    assert not shared_variants, f"voice variants in both halves: {shared_variants}"
    assert not shared_texts, f"texts in both halves: {shared_texts}"
    return (
        f"split check: 0 shared base voices ({len(tune.bases)}/{len(held.bases)}),"
        f" 0 shared variants ({len(tune.female + tune.male)}/{len(held.female + held.male)}),"
        f" 0 shared phrases ({len(sentences(tune))}/{len(sentences(held))})"
    )
