"""Extra asks, part two: the capabilities of domains_b.py (format: see extra_asks_a.py)."""

EXTRA_ASKS_B: dict[str, tuple[str, ...]] = {
    "translation.translate": (
        "the {language} version of \"{text}\"", "\"{text}\" in {language}, please",
        "how \"{text}\" reads in {language}", "the words for \"{text}\" in {language}"),
    "translation.detect_language": (
        "what \"{text}\" was typed in",
        "whether \"{text}\" is Spanish, Portuguese or something else entirely",
        "which country's speech \"{text}\" belongs to",
        "what kind of script or dialect \"{text}\" uses"),
    "translation.pronounce": (
        "how to utter {word} correctly[ in {language}]",
        "the phonetic spelling of {word}[ for {language}]",
        "where the stress falls in {word}[ in {language}]",
        "an audio clip of {word}[ as spoken in {language}]"),
    "currency.convert": (
        "{amount} {currency} changed into {target_currency}",
        "the {target_currency} equivalent of {amount} {currency}",
        "what my {amount} {currency} buys in {target_currency}",
        "how {amount} {currency} works out in {target_currency}"),
    "currency.rate_history": (
        "the {currency}/{target_currency} chart since {date}",
        "how {currency} fared versus {target_currency} since {date}",
        "the ups and downs of {currency} to {target_currency} from {date} on",
        "what one {currency} fetched in {target_currency} each day since {date}"),
    "currency.atm_fees": (
        "what it costs to take money out in {city}[ in {currency}]",
        "which dispensers in {city} are free to use[ for {currency}]",
        "the surcharge banks add in {city} when I pull out money[ in {currency}]",
        "whether my bank penalises me for using machines in {city}[ in {currency}]"),
    "crypto.coin_price": (
        "the market rate for {coin}[ in {currency}]",
        "where {coin} is trading[ against {currency}]",
        "the latest figure for {coin}[ in {currency}]",
        "if {coin} has crashed or pumped[, in {currency} terms]"),
    "crypto.wallet": (
        "the {coin} I own", "my {coin} holdings", "whether I still have any {coin}",
        "the amount of {coin} stored in my account"),
    "crypto.buy_coin": (
        "to purchase {coin} for {amount}", "{amount} spent on {coin}",
        "to add {amount} of {coin} to my portfolio", "to acquire some {coin} with {amount}"),
    "smart_home.device_control": (
        "the {device} shut down", "to kill the {device}", "the {device} started up",
        "to flip the {device} on or off"),
    "smart_home.thermostat": (
        "the heating adjusted to {temperature}[ through the {device}]",
        "to cool the place down to {temperature}[ with the {device}]",
        "my home kept at a steady {temperature}[ by the {device}]",
        "to dial the climate to {temperature}[ on the {device}]"),
    "smart_home.device_status": (
        "if the {device} is online", "what state the {device} is in",
        "whether the {device} is running right now", "any faults the {device} is reporting"),
    "smart_home.routine": (
        "the {device} scheduled for {time} daily", "to program the {device} to start at {time}",
        "the {device} firing up unattended at {time}",
        "a recurring {time} trigger for the {device}"),
    "vehicles.car_value": (
        "what a {vehicle} is going for these days", "how much my {vehicle} has depreciated",
        "the trade-in figure for a {vehicle}", "a fair asking amount for my {vehicle}"),
    "vehicles.recalls": (
        "if the manufacturer wants to fix something on my {vehicle}",
        "any airbag or brake notices for the {vehicle}",
        "whether the {vehicle} is on a list for free repairs",
        "if there's a factory campaign affecting my {vehicle}"),
    "vehicles.registration": (
        "whether the tax on {plate} is paid up", "the keeper on file for {plate}",
        "if {plate} is valid", "the renewal date for {plate}"),
    "vehicles.service": (
        "a garage visit for the {vehicle} {date}", "my {vehicle} in the shop {date}",
        "maintenance for my {vehicle} {date}",
        "someone to inspect the brakes of my {vehicle} {date}"),
    "transit.departures": (
        "the tram timetable in {city}[ past {time}]",
        "which buses are still running in {city}[ later than {time}]",
        "how long I'll wait on the platform in {city}[ at {time}]",
        "the first subway I could board in {city}[ from {time}]"),
    "transit.transit_route": (
        "a bus and rail trip from {origin} to {destination}[ setting off at {time}]",
        "what lines carry me from {origin} to {destination}[ around {time}]",
        "where to switch trains going {origin} to {destination}[ at {time}]",
        "the metro and tram legs from {origin} to {destination}[ heading off at {time}]"),
    "transit.fares": (
        "how expensive public transport is in {city}",
        "the cost of a monthly travel card in {city}",
        "whether a single journey in {city} is cheap",
        "what I'd spend hopping on buses in {city}"),
    "rideshare.request_ride": (
        "someone waiting outside {address} to get me to {destination}",
        "transport from {address} to {destination} right now",
        "to be collected at {address} and dropped off in {destination}",
        "an Uber from {address} to {destination}"),
    "rideshare.ride_estimate": (
        "how much I'd be charged for a car from {address} to {destination}",
        "a rough figure for a car trip from {address} to {destination}",
        "whether a chauffeured trip from {address} to {destination} breaks the bank",
        "the meter total I should expect from {address} to {destination}"),
    "rideshare.driver_location": (
        "how many minutes until my car shows up[ at {address}]",
        "the position of my car on the map[ heading to {address}]",
        "if the vehicle coming for me is stuck in traffic[ near {address}]",
        "whether I should head downstairs yet[ at {address}]"),
    "pets.vets": (
        "an animal hospital in {city}[ that treats {pet}s]",
        "who can vaccinate my animal in {city}[, a {pet}]",
        "a practice in {city} for sick animals[ like my {pet}]",
        "where to bring a poorly animal in {city}[ - mine's a {pet}]"),
    "pets.pet_food": (
        "nutritious meals for a {pet}[ that is {count}]",
        "how much a {pet} should eat[ at age {count}]",
        "which brand of chow keeps a {pet} healthy[ at {count}]",
        "treats and dinners that agree with a {pet}[, {count} years in]"),
    "pets.breed_info": (
        "the temperament of a {pet}", "how much exercise a {pet} needs",
        "whether a {pet} sheds a lot", "common health issues of a {pet}"),
    "gardening.care": (
        "how much light my {plant} should receive", "the right soil and feeding for {plant}",
        "advice on growing {plant} indoors", "how to look after {plant} in winter"),
    "gardening.planting": (
        "which month suits {plant} in {city}", "the best weeks to start {plant} in {city}",
        "when {plant} should go out in {city}", "if the frost is over for {plant} in {city}"),
    "gardening.diagnose": (
        "what ails my {plant} with {symptom}", "the cause of {symptom} on my {plant}",
        "a cure for {plant} with signs of {symptom}",
        "whether {symptom} means my {plant} is sick"),
    "events.event_search": (
        "things happening in {city} {date}", "festivals or shows in {city} {date}",
        "how to spend an evening out in {city} {date}",
        "gigs, fairs or exhibitions in {city} {date}"),
    "events.tickets": (
        "admission to {event} for {count}", "entry for a group of {count} at {event}",
        "to pay for {count} places at {event}", "{count} wristbands for {event}"),
    "events.event_details": (
        "the venue and date of {event}", "the programme of {event}",
        "practical info about {event}", "whether {event} is family friendly"),
    "insurance.claim": (
        "a payout on {policy} for the {keyword}",
        "to report damage from the {keyword} under {policy}",
        "to start the paperwork on {policy} after the {keyword}",
        "my provider to pay for the {keyword} under {policy}"),
    "insurance.coverage": (
        "what {policy} includes", "the exclusions in {policy}",
        "whether {policy} would help if my flat floods", "the limits and deductible of {policy}"),
    "insurance.quote_insurance": (
        "the premium for a {vehicle} in {zip_code}",
        "the yearly bill for a {vehicle} against accidents in {zip_code}",
        "an offer for third-party liability on a {vehicle} in {zip_code}",
        "whether my {vehicle} at {zip_code} would be cheap to underwrite"),
    "shipping.track_parcel": (
        "the whereabouts of shipment {tracking_number}", "when {tracking_number} will reach me",
        "whether {tracking_number} is stuck at customs", "the latest scan for {tracking_number}"),
    "shipping.shipping_rate": (
        "the delivery charge for {amount} grams going to {zip_code}",
        "what I'd pay to post a {amount} g envelope to {zip_code}",
        "whether {amount} grams to {zip_code} is pricey to dispatch",
        "the tariff for a letter of {amount} grams to {zip_code}"),
    "shipping.pickup": (
        "a van to fetch my shipment at {address} {date}",
        "a messenger calling at {address} {date} to take my items",
        "the delivery firm to swing by {address} {date}",
        "to hand over my goods at {address} {date}"),
    "dictionary.define": (
        "what {word} stands for", "an explanation of {word} in plain English",
        "the sense of {word}", "what people are getting at when they say {word}"),
    "dictionary.synonyms": (
        "alternatives to {word}[ - {count} please]",
        "terms that mean the same as {word}[, {count} or so]",
        "how else I could phrase {word}[, {count} suggestions]",
        "a thesaurus entry for {word}[ with {count} choices]"),
    "dictionary.etymology": (
        "the roots of {word}", "which language {word} was borrowed from",
        "how {word} came into English", "the story behind {word}"),
    "astronomy.visibility": (
        "whether {planet} will be above the horizon in {city}",
        "the best hour to see {planet} from {city}",
        "if I could observe {planet} with binoculars from {city}",
        "when {planet} rises over {city}"),
    "astronomy.sun_times": (
        "when first light breaks over {city} {date}", "the hour of dusk in {city} {date}",
        "when the streetlights come on in {city} {date}",
        "when golden hour starts in {city} {date}"),
    "astronomy.horoscope": (
        "the astrological prediction for {zodiac}[ {date}]",
        "whether luck favours a {zodiac}[ {date}]", "what fate holds for {zodiac} signs[ {date}]",
        "love and money advice for a {zodiac}[ {date}]"),
    "gaming.game_deals": (
        "a bargain on {game}", "if {game} is marked down anywhere", "a promo code for {game}",
        "where {game} is going for a steal"),
    "gaming.walkthrough": (
        "a guide for {game}[ covering the {keyword}]",
        "how to clear the hard part of {game}[ around the {keyword}]",
        "the solution to where I'm stuck in {game}[ at the {keyword}]",
        "strategies to win {game}[ at the {keyword}]"),
    "gaming.player_stats": (
        "the achievements {person} has in {game}", "the rank of {person} in {game}",
        "the win rate of {person} in {game}", "{person}'s record in {game}"),
    "devops.deploy": (
        "to push {branch} out to {service}", "{branch} out on {service} in prod",
        "the latest {branch} changes put on {service}",
        "an update of {service} to whatever is on {branch}"),
    "devops.logs": (
        "the output of {service}[ for the past {minutes} minutes]",
        "the stack traces {service} wrote[ within {minutes} minutes]",
        "the console lines from {service}[ from the previous {minutes} minutes]",
        "what {service} has been complaining about[ in {minutes} minutes]"),
    "devops.rollback": (
        "the prior {service} version reinstated", "to return {service} to how it was last week",
        "{service} on its earlier stable edition", "to bin the newest {service} push"),
    "devops.metrics": (
        "the latency of {service}[ across {minutes} minutes]",
        "CPU and memory of {service}[ these {minutes} minutes]",
        "the request rate {service} handled[ within {minutes} minutes]",
        "a dashboard view of {service}[ spanning {minutes} minutes]"),
    "code.pull_requests": (
        "the patches proposed for {repo}[ targeting {branch}]",
        "which contributions to {repo} still need approval[ on {branch}]",
        "code awaiting sign-off in {repo}[ into {branch}]",
        "unreviewed work in {repo}[ aimed at {branch}]"),
    "code.ci_status": (
        "the pipeline result for {branch} of {repo}", "if {repo} compiles on {branch}",
        "whether the checks on {branch} in {repo} are red",
        "what the CI says about {branch} in {repo}"),
    "code.create_issue": (
        "a tracker entry in {repo} for the {keyword}",
        "the {keyword} defect written up for {repo}",
        "to flag the {keyword} to the maintainers of {repo}",
        "a record in {repo} that the {keyword} is broken"),
    "it_support.open_ticket": (
        "the service desk alerted that my {device} broke during the {keyword}",
        "a repair for my {device} after the {keyword}",
        "to raise a case about the {device} and the {keyword}",
        "the admins to look into my {device} because of the {keyword}"),
    "it_support.ticket_status": (
        "the progress on {ticket_id}", "whether anyone has replied on {ticket_id}",
        "how far along {ticket_id} is", "when someone gets round to {ticket_id}"),
    "it_support.reset_password": (
        "access restored to {email}", "help because I'm locked out of {email}",
        "fresh credentials for {email}", "to recover {email} since I forgot how to log on"),
    "notes.add_note": (
        "\"{note}\" written down for later", "to store the thought \"{note}\"",
        "a scribble saying \"{note}\"", "to capture \"{note}\" before it slips my mind"),
    "notes.todo": (
        "something nagging me to {note} {date}", "a prompt {date} so I {note}",
        "an item saying {note}, due {date}", "to be told to {note} {date}"),
    "notes.search_notes": (
        "the jottings I made on the {keyword}", "my old scribbles regarding the {keyword}",
        "that memo on the {keyword}", "where I put my ideas for the {keyword}"),
    "social.post": (
        "\"{text}\" up on my feed[ at {brand}]", "to tweet \"{text}\"[ through {brand}]",
        "my status changed to \"{text}\"[ on {brand}]",
        "to broadcast \"{text}\" to my network[ on {brand}]"),
    "social.mentions": (
        "the chatter around {brand}", "comments that name {brand}",
        "how {brand} is discussed on the internet", "every time someone brings up {brand}"),
    "social.followers": (
        "the reach of {person}", "how much clout {person} has online",
        "whether {person} is an influencer", "the size of the crowd that keeps up with {person}"),
    "air_quality.aqi": (
        "how much soot and exhaust hangs over {city}", "whether breathing in {city} is bad for me",
        "the particulate levels in {city}", "if the atmosphere in {city} is healthy"),
    "air_quality.pollen": (
        "the hay fever risk in {city}[ {date}]",
        "how much grass and ragweed is floating around {city}[ {date}]",
        "whether I should take my antihistamine in {city}[ {date}]",
        "if my itchy eyes will act up in {city}[ {date}]"),
    "air_quality.pollution_forecast": (
        "how murky {city} gets {date}", "the expected smoke levels in {city} {date}",
        "whether {city} will be choked by fumes {date}", "whether {city} clears up {date}"),
}
