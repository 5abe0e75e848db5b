"""Extra asks, part one: the capabilities of domains_a.py (part two is extra_asks_b.py).

Hand-written, four a capability, in the form and under the slot rules of the asks in the domain
tables (extra_asks.py says why they exist and what they avoid).
"""

EXTRA_ASKS_A: dict[str, tuple[str, ...]] = {
    "weather.current": (
        "the temperature in {city} as we speak[ in {unit}]",
        "whether it is sunny or grey over {city} this instant[, figures in {unit}]",
        "how hot or cold it is in {city} this minute[ in {unit}]",
        "whether I'd shiver or sweat on a walk in {city} just now[ in {unit}]"),
    "weather.forecast": (
        "the outlook for {city} {date}", "how hot {city} gets {date} and how cold it drops",
        "if {city} stays dry and bright {date}", "what kind of day {city} will have {date}"),
    "weather.alerts": (
        "whether the authorities have issued anything urgent for {city}",
        "if something nasty is headed for {city}, like a hurricane or blizzard",
        "what hazards the met office is flagging for {city}",
        "whether people in {city} are being told to stay indoors"),
    "weather.uv": (
        "how harsh the rays are in {city}[ {date}]",
        "whether my skin is at risk outdoors in {city}[ {date}]",
        "if I should wear a hat against the glare in {city}[ {date}]",
        "how intense the midday radiation gets in {city}[ {date}]"),
    "maps.directions": (
        "step-by-step guidance from {origin} to {destination}[ while {mode}]",
        "help navigating from {origin} to {destination}[ {mode}]",
        "how I reach {destination} starting at {origin}[, {mode}]",
        "a path that leads me from {origin} to {destination}[ if I'm {mode}]"),
    "maps.travel_time": (
        "the duration of the journey {origin} to {destination}[ {mode}]",
        "how many minutes I should budget between {origin} and {destination}[ going {mode}]",
        "whether {origin} to {destination} is a quick hop or an all-day affair[ {mode}]",
        "how far in advance I must set off from {origin} to make it to {destination}[ {mode}]"),
    "maps.nearby": (
        "locations in {city} that would work for a {keyword}",
        "what {city} has on offer for a {keyword}", "where in {city} I could go for a {keyword}",
        "options within walking distance in {city} for a {keyword}"),
    "maps.geocode": (
        "the GPS pin for {address} in {city}", "the map reference of {address}, {city}",
        "numbers I can punch into my navigator for {address} in {city}",
        "where on a map {address}, {city} lands"),
    "calendar.create_event": (
        "to pencil in the {keyword} {date}[ at {time}]",
        "the {keyword} written into my diary {date}[ at {time}]",
        "a slot reserved {date}[ at {time}] for my {keyword}",
        "to mark {date} as taken by the {keyword}[ from {time}]"),
    "calendar.list_events": (
        "a rundown of my appointments {date}", "which calls and catch-ups I'm committed to {date}",
        "what's already arranged for me {date}", "if anything is lined up {date}"),
    "calendar.free_slots": (
        "a window {date} when nothing is scheduled[, {minutes} minutes long]",
        "when I could squeeze in a call {date}[ of {minutes} minutes]",
        "whether I'm available at some point {date}[ for {minutes} minutes]",
        "the hours I still have unclaimed {date}[, at least {minutes} minutes]"),
    "calendar.invite": (
        "to bring {contact} into my session {date}[ at {time}]",
        "{contact} among my guests {date}[ at {time}]",
        "that {contact} sits down with me {date}[ at {time}]",
        "a heads-up to {contact} that I'd like to see them {date}[ at {time}]"),
    "stocks.quote": (
        "the latest number on the board for {ticker}", "the last traded figure for {ticker}",
        "how the market values {ticker} this very second",
        "what a single unit of {ticker} would set me back"),
    "stocks.history": (
        "the performance of {ticker} since {date}",
        "a record of where {ticker} closed each day since {date}",
        "the swings {ticker} has been through since {date}",
        "the trajectory of {ticker} starting {date}"),
    "stocks.fundamentals": (
        "the revenue and debt of {company}", "what the balance sheet of {company} looks like",
        "whether {company} has healthy margins", "the key financial ratios for {company}"),
    "stocks.dividends": (
        "the yield I'd collect from holding {ticker}",
        "the cash {ticker} distributes to investors",
        "whether owning {ticker} puts money in my pocket every quarter",
        "how generous {ticker} is to the people who own it"),
    "banking.balance": (
        "what my funds add up to[ in {currency}]", "whether I'm in the red[, shown in {currency}]",
        "the total I've got in the bank[ in {currency}]",
        "how much cash is available to me today[ in {currency}]"),
    "banking.transfer": (
        "to wire {amount}[ {currency}] to {contact}",
        "to settle up with {contact} for {amount}[ {currency}]",
        "to reimburse {contact} the {amount}[ {currency}] I owe",
        "{amount}[ {currency}] going from my savings to {contact}"),
    "banking.transactions": (
        "a statement of everything charged to me since {date}",
        "which debits hit my bank since {date}", "how my spending has added up since {date}",
        "the bills and shop receipts logged against me since {date}"),
    "banking.block_card": (
        "to shut down my debit[ after the {keyword}]",
        "that purchases on my stolen plastic get refused[ after the {keyword}]",
        "an emergency lock so strangers can't charge things to me[ since the {keyword}]",
        "to cancel my Mastercard before someone goes shopping with it[ after the {keyword}]"),
    "flights.search_flights": (
        "airfare options from {origin} to {destination} {date}[ in {cabin}]",
        "which airlines go {origin} to {destination} {date}[, {cabin} please]",
        "a ticket out of {origin} that lands in {destination} {date}[, in {cabin}]",
        "something that takes off from {origin} for {destination} {date}[ travelling {cabin}]"),
    "flights.flight_status": (
        "if {flight_number} is delayed", "when {flight_number} touches down",
        "whether {flight_number} got cancelled", "where {flight_number} is in the sky now"),
    "flights.baggage": (
        "the kilo limit for cases in the hold on {airline}[ in {cabin}]",
        "whether my carry-on passes with {airline}[ when in {cabin}]",
        "what {airline} charges for an extra case[ in {cabin}]",
        "how much stuff I'm permitted to haul along on {airline}[ in {cabin}]"),
    "flights.checkin": (
        "to confirm {person} for {flight_number} from home",
        "a seat locked in for {person} on {flight_number} ahead of departure",
        "to skip the desk queue for {person} on {flight_number}",
        "{person} cleared to go straight to security for {flight_number}"),
    "hotels.search_hotels": (
        "accommodation in {city} {date}[ for {nights} nights][ costing at most {budget}]",
        "lodging options in {city} {date}[ for {nights} nights][ within {budget}]",
        "where I could crash in {city} {date}[ for {nights} nights][ with {budget} to spend]",
        "a B&B or inn in {city} {date}[, {nights} nights][, not over {budget}]"),
    "hotels.book_room": (
        "to secure {nights} nights at {hotel} {date}",
        "my name down at {hotel} for {nights} nights {date}",
        "{nights} nights sorted at {hotel} starting {date}",
        "to check into {hotel} {date} and remain there {nights} nights"),
    "hotels.reviews": (
        "the ratings {hotel} gets from travellers",
        "whether {hotel} is worth the money according to past visitors",
        "any complaints about {hotel}", "the verdict on {hotel} from those who have been"),
    "hotels.amenities": (
        "the facilities at {hotel}", "whether {hotel} has wifi and a spa",
        "what extras {hotel} includes", "whether I'll find a laundry or a rooftop bar at {hotel}"),
    "recipes.find_recipe": (
        "a meal built around {ingredient}[ suitable for a {diet} eater]",
        "a dish that uses up my {ingredient}[, {diet} friendly]",
        "inspiration for lunch featuring {ingredient}[ and {diet}]",
        "how to turn {ingredient} into supper[ on a {diet} plan]"),
    "recipes.recipe_steps": (
        "a guide to {dish} from start to finish", "how {dish} is put together",
        "each stage of {dish} spelled out", "the way a chef would tackle {dish}"),
    "recipes.substitute": (
        "an alternative to {ingredient}", "what to reach for since I ran out of {ingredient}",
        "a stand-in for {ingredient} that tastes similar",
        "what works instead of {ingredient} if I'm allergic"),
    "recipes.scale": (
        "the quantities for {dish} when {count} are eating", "{dish} adjusted for {count} guests",
        "how much of everything goes into {dish} for {count} mouths",
        "a batch of {dish} that covers {count} diners"),
    "restaurants.find_restaurant": (
        "somewhere in {city} for a {cuisine} meal", "the best {cuisine} kitchen in {city}",
        "where locals in {city} go for {cuisine}", "a {cuisine} eatery I'd enjoy in {city}"),
    "restaurants.reserve_table": (
        "dinner for {count} at {restaurant} {date}[ at {time}]",
        "a party of {count} confirmed at {restaurant} {date}[ for {time}]",
        "{count} covers at {restaurant} {date}[ at {time}]",
        "to make sure {count} people can eat at {restaurant} {date}[ from {time}]"),
    "restaurants.menu": (
        "the food on offer at {restaurant}[ that suits a {diet} diet]",
        "whether {restaurant} cooks anything I'd like[ that's {diet}]",
        "the mains and desserts of {restaurant}[, {diet} only]",
        "what's on the card at {restaurant}[ for {diet} guests]"),
    "restaurants.opening_hours": (
        "what time {restaurant} closes", "the days {restaurant} does business",
        "if {restaurant} is serving on Sundays",
        "whether the doors of {restaurant} are unlocked at lunch"),
    "health.symptom_check": (
        "the likely reasons behind {symptom}", "what {symptom} is a sign of",
        "an explanation for {symptom} that won't go away",
        "which conditions usually come with {symptom}"),
    "health.drug_info": (
        "how {medication} works in the body", "the usual dose of {medication}",
        "what I should know before I start on {medication}",
        "which illnesses {medication} treats"),
    "health.interactions": (
        "whether {medication} reacts badly with anything[ like {ingredient}]",
        "if I can take {medication} alongside my other prescriptions[ and {ingredient}]",
        "what to avoid while on {medication}[, {ingredient} for instance]",
        "the risks of pairing {medication} with other treatments[ or {ingredient}]"),
    "health.find_doctor": (
        "a GP I can see in {city}[ about my {keyword}]",
        "a practitioner in {city}[ regarding the {keyword}]",
        "an appointment with a specialist in {city}[ for the {keyword}]",
        "who treats people in {city}[ with a {keyword} issue]"),
    "fitness.log_workout": (
        "{minutes} minutes of {exercise} entered in my sports diary",
        "to note down a bout of {exercise} lasting {minutes} minutes",
        "credit for the {exercise} I just finished, {minutes} minutes of it",
        "my fitness history updated with {exercise}, {minutes} minutes"),
    "fitness.plan": (
        "a routine to progress in {exercise}[ across {count} weeks]",
        "week-by-week guidance for {exercise}[ lasting {count} weeks]",
        "a coach-style roadmap for {exercise}[, {count} weeks long]",
        "how to go from beginner to strong at {exercise}[ in {count} weeks]"),
    "fitness.calories_burned": (
        "how many kilojoules {exercise} costs me over {minutes} minutes",
        "whether {exercise} for {minutes} minutes helps me slim down",
        "the fuel my body spends on {minutes} minutes of {exercise}",
        "how much fat {minutes} minutes of {exercise} melts"),
    "fitness.steps": (
        "the distance my pedometer recorded {date}", "how active I was on foot {date}",
        "my daily movement total {date}", "how much ground I covered {date}"),
    "movies.showtimes": (
        "the sessions of {movie} in {city}[ {date}]",
        "a theatre in {city} running {movie}[ {date}]",
        "whether {movie} is still on the big screen in {city}[ {date}]",
        "the next projection of {movie} in {city}[ {date}]"),
    "movies.movie_info": (
        "who stars in {movie}", "when {movie} came out and how it was received",
        "the background facts on {movie}", "how long {movie} runs and what it's rated"),
    "movies.recommend": (
        "what fans of {movie} tend to enjoy next[ - {count} would do]",
        "my next watch now that I loved {movie}[, {count} suggestions]",
        "features a {movie} lover would adore[ - {count} titles]",
        "a watchlist seeded from {movie}[ with {count} entries]"),
    "movies.streaming": (
        "which platform carries {movie}[ in {city}]",
        "whether I can watch {movie} online tonight[ from {city}]",
        "a service showing {movie}[ for viewers in {city}]",
        "how to see {movie} from my couch[ in {city}]"),
    "music.play": (
        "{artist} blasting in the room", "to listen to {artist} now",
        "some {artist} tracks spinning", "the voice of {artist} filling the house"),
    "music.playlist": (
        "a queue of {genre}[, {count} numbers long]",
        "a selection of {genre} to keep on repeat[ - {count} cuts]",
        "a compilation of {genre}[ holding {count} songs]",
        "{genre} lined up back to back[, {count} of them]"),
    "music.artist_info": (
        "the life and career of {artist}", "who influenced {artist}", "how {artist} became famous",
        "background on {artist} and their albums"),
    "music.concerts": (
        "the upcoming gigs of {artist}[ in {city}]",
        "whether {artist} has shows planned[ around {city}]",
        "a chance to watch {artist} in person[ in {city}]",
        "festival appearances by {artist}[ close to {city}]"),
    "podcasts.episodes": (
        "the latest installments of {podcast}[, {count} please]",
        "what {podcast} has put out this month[ - the past {count}]",
        "recent drops from {podcast}[, {count} at most]",
        "the back catalogue of {podcast}[, most recent {count}]"),
    "podcasts.search_podcasts": (
        "talk programmes on {topic}", "a series where hosts discuss {topic}",
        "expert interviews on {topic} in audio form", "a spoken-word show that digs into {topic}"),
    "podcasts.subscribe": (
        "{podcast} added to my library", "to sign up for {podcast}",
        "that each release of {podcast} lands on my phone",
        "to keep up with {podcast} from now on"),
    "books.book_search": (
        "the works of {author}", "titles penned by {author}", "everything {author} ever published",
        "where to start with {author}"),
    "books.book_summary": (
        "a recap of {book}", "the gist of {book} without reading it", "what happens in {book}",
        "a short overview of {book} for my reading group"),
    "books.library": (
        "a lending copy of {book} in {city}", "whether {book} is on loan right now in {city}",
        "if I could take home {book} with my reader's pass in {city}",
        "how long the waitlist for {book} is in {city}"),
    "books.book_price": (
        "a bargain copy of {book}", "if {book} is a better buy as an ebook or paperback",
        "the shop with the friendliest rate for {book}",
        "what I'd spend on {book} at various sellers"),
    "news.headlines": (
        "the biggest developments right now[ about {topic}]",
        "a quick briefing on current affairs[ concerning {topic}]",
        "what's leading the bulletins[ on {topic}]",
        "the key events I should know about[ in {topic}]"),
    "news.news_search": (
        "press pieces on {topic}[ published since {date}]",
        "stories dealing with {topic}[ from {date} onward]",
        "anything the media ran on {topic}[ since {date}]",
        "in-depth features on {topic}[ after {date}]"),
    "news.company_news": (
        "press releases from {company}", "any scandal or deal involving {company}",
        "what's been reported about {company} this week", "the buzz around {company} lately"),
    "messaging.send_message": (
        "to let {contact} know \"{text}\"", "a quick note to {contact} reading \"{text}\"",
        "\"{text}\" delivered to {contact}'s phone", "to shoot {contact} a quick \"{text}\""),
    "messaging.read_messages": (
        "the replies I haven't opened yet[ from {contact}]",
        "who has been trying to reach me[, {contact} in particular]",
        "the conversations waiting on my phone[, {contact}'s first]",
        "what friends sent while I was busy[, including {contact}]"),
    "messaging.group_chat": (
        "a shared channel with {contact} to plan the {keyword}",
        "to bring {contact} and me together in one place to discuss the {keyword}",
        "a space where {contact} and I coordinate the {keyword}",
        "{contact} and the rest of the crew in one place for the {keyword}"),
    "email.send_email": (
        "to contact {email} concerning the {keyword}",
        "to fire off a few lines to {email} on the {keyword}",
        "{email} informed about the {keyword}",
        "to reach out to {email} with news of the {keyword}"),
    "email.search_email": (
        "that message I got about the {keyword}[ after {date}]",
        "the letter in my inbox mentioning the {keyword}[ since {date}]",
        "who wrote me regarding the {keyword}[ from {date} on]",
        "an old exchange on the {keyword} I need to dig up[, since {date}]"),
    "email.unsubscribe": (
        "no more promos from {brand}", "to opt out of {brand} marketing",
        "my address removed from the {brand} database",
        "an end to the {brand} offers flooding my inbox"),
    "shopping.product_search": (
        "the best {product} on the market[ below {budget}]",
        "a {product} worth buying[ at most {budget}]",
        "what {product} people swear by[ for up to {budget}]",
        "options for a {product}[ with {budget} to spend]"),
    "shopping.price_compare": (
        "which shop has the lowest tag on the {product}",
        "how much the {product} goes for at different stores",
        "if I'm overpaying for the {product}", "the bargain offers on a {product} side by side"),
    "shopping.order_status": (
        "whether {order_id} is out for delivery", "the progress of {order_id}",
        "what's holding up {order_id}", "an ETA for {order_id}"),
    "shopping.returns": (
        "to undo my purchase {order_id}[ owing to the {keyword}]",
        "a label to post {order_id} to the seller again[ since the {keyword}]",
        "to exchange {order_id}[ following the {keyword}]",
        "{order_id} taken back by the shop[ - it was for the {keyword}]"),
    "sports.scores": (
        "what the tally is for {team} as things stand", "if {team} is ahead at the moment",
        "how many goals {team} has so far today", "the state of play for {team}"),
    "sports.fixtures": (
        "the {team} schedule ahead[, {count} matches]",
        "which opponents {team} meets[ in the following {count} matches]",
        "dates of the {team} matches still to be played[ - {count} of them]",
        "when I can watch {team} again[ for the following {count} rounds]"),
    "sports.standings": (
        "the position of {team} in the division", "whether {team} is in the relegation zone",
        "how {team} compares with its rivals this season", "what place {team} currently holds"),
    "real_estate.listings": (
        "flats up for grabs in {city} below {budget}[ that have {count} bedrooms]",
        "a house for {budget} or less in {city}[, {count} rooms]",
        "what {budget} could find me in {city}[ with {count} bedrooms]",
        "a lease in {city} at {budget} max[ with {count} bedrooms]"),
    "real_estate.valuation": (
        "an appraisal of {address} in {city}", "what a buyer would offer for {address}, {city}",
        "whether {address} in {city} has gone up since I bought it",
        "the asking figure I should set for {address} in {city}"),
    "real_estate.mortgage": (
        "the instalment on a {amount} home credit over {count} years",
        "what the bank will take from me each month for {amount} across {count} years",
        "whether I can handle financing {amount} for {count} years",
        "the interest I'd pay on {amount} spread over {count} years"),
    "jobs.job_search": (
        "vacancies for a {job_title} in {city}", "employers in {city} looking for a {job_title}",
        "a {job_title} gig in {city}", "my next career move as a {job_title} in {city}"),
    "jobs.salary": (
        "how much money a {job_title} takes home[ in {city}]",
        "the wages for a {job_title}[ near {city}]",
        "what I should ask for as a {job_title}[ in {city}]",
        "whether being a {job_title} pays well[ in {city}]"),
    "jobs.apply": (
        "my candidacy for {job_title} at {company}",
        "to put myself forward as {job_title} with {company}",
        "a shot at being the new {job_title} at {company}",
        "that {company} considers me for {job_title}"),
    "education.courses": (
        "lessons on {course} I can follow from home", "a programme that teaches {course}",
        "somewhere I could pick up {course}", "a certificate in {course}"),
    "education.grades": (
        "my score in {course}", "the result of my {course} exam",
        "what my teacher gave me for {course}", "my standing in {course} this term"),
    "education.tutor": (
        "one-on-one lessons in {course}[ around {city}]",
        "a coach for my {course} homework[ in {city}]",
        "after-school support for {course}[ in {city}]",
        "somebody to drill me on {course}[ based in {city}]"),
}
