"""Entity gazetteers that fill query slots, and the JSON-schema type of each slot kind.

Every argument value of a gold call is one of these strings (or numbers) and is written into
the query verbatim, so grounding can be checked by substring. Numbers are rendered with `str()`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SlotKind:
    type: str  # JSON-schema type: string | integer | number
    values: tuple
    enum: bool = False  # the strong tool lists the values as an enum
    format: str = ""  # JSON-schema format hint shown in the strong tool's schema


def _s(text: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in text.split(";") if item.strip())


_CITIES = _s("Lisbon;Nairobi;Osaka;Montreal;Cusco;Tbilisi;Valparaiso;Hanoi;Edinburgh;Accra;"
             "Porto;Reykjavik;Kraków;Cape Town;Medellín;Ljubljana;Busan;Marrakesh;Tallinn;Perth;"
             "Quito;Bergen;Antwerp;Dubrovnik;Chiang Mai;Halifax;Lyon;Seville;Zanzibar;Tromsø")
_PEOPLE = _s("Amara Okafor;Liam Chen;Sofia Rossi;Mateo García;Hana Suzuki;Noah Becker;"
             "Priya Nair;Elena Petrova;Jonas Lindqvist;Fatima Haddad;Diego Alvarez;Mei Lin;"
             "Tomás Silva;Ingrid Holm;Kwame Mensah;Chloé Martin;Ravi Kapoor;Yara Costa;"
             "Oskar Nowak;Leila Farouk")
_BRANDS = _s("Nimbus;Quill;Orbit;Lumen;Cobalt;Pebble;Atlas;Juniper;Vertex;Harbor;Sable;Tandem")
_GOODS = _s("running shoes;espresso machine;standing desk;noise-cancelling headphones;"
            "trail backpack;air fryer;mechanical keyboard;yoga mat;smart watch;rice cooker;"
            "camping tent;electric kettle;office chair;bike helmet;robot vacuum")

SLOTS: dict[str, SlotKind] = {
    "city": SlotKind("string", _CITIES),
    "origin": SlotKind("string", _CITIES),
    "destination": SlotKind("string", _CITIES),
    "date": SlotKind("string", _s("tomorrow;this weekend;next Monday;on Friday;tonight;"
                                 "next week;on 12 March;on 3 June;the day after tomorrow"),
                     format="date phrase"),
    "time": SlotKind("string", _s("9am;noon;3:30pm;7pm;8:15am;midnight;6pm"), format="time"),
    "person": SlotKind("string", _PEOPLE),
    "contact": SlotKind("string", _PEOPLE),
    "email": SlotKind("string", _s("amara@quillmail.com;liam.chen@orbit.io;sofia@lumen.net;"
                                  "mateo.g@cobalt.org;hana@pebble.jp;noah.b@atlas.de;"
                                  "priya@juniper.in;elena@vertex.ru"), format="email"),
    "ticker": SlotKind("string", _s("AAPL;MSFT;TSLA;NVDA;AMZN;GOOGL;SAP;ASML;TM;SONY;INTC;NFLX")),
    "company": SlotKind("string", _s("Toyota;Siemens;Unilever;Nestlé;Samsung;Airbus;Spotify;"
                                    "Shopify;Infosys;Adidas;Philips;Ericsson")),
    "currency": SlotKind("string", _s("EUR;USD;JPY;GBP;CHF;BRL;INR;KES;CAD;AUD"), enum=True),
    "target_currency": SlotKind("string", _s("EUR;USD;JPY;GBP;CHF;BRL;INR;KES;CAD;AUD"),
                                enum=True),
    "amount": SlotKind("number", (25, 40, 120, 250, 300, 75, 1500, 60, 999, 18)),
    "count": SlotKind("integer", (2, 3, 4, 5, 6, 8, 10)),
    "nights": SlotKind("integer", (1, 2, 3, 4, 5, 7)),
    "minutes": SlotKind("integer", (10, 15, 20, 30, 45, 60, 90)),
    "unit": SlotKind("string", ("celsius", "fahrenheit"), enum=True),
    "mode": SlotKind("string", ("walking", "driving", "cycling", "transit"), enum=True),
    "cabin": SlotKind("string", ("economy", "business", "first class"), enum=True),
    "language": SlotKind("string", _s("Portuguese;Japanese;Swahili;German;Korean;Spanish;Greek;"
                                     "Turkish;Polish;Hindi;Finnish;Arabic")),
    "text": SlotKind("string", _s("where is the train station;I am allergic to nuts;"
                                 "the meeting is moved to Thursday;thank you for your help;"
                                 "how much does this cost;please call me back")),
    "cuisine": SlotKind("string", _s("Ethiopian;Peruvian;Thai;Lebanese;Georgian;Korean;Sicilian;"
                                    "Oaxacan;Vietnamese;Basque")),
    "dish": SlotKind("string", _s("shakshuka;pad thai;ramen;paella;moussaka;jollof rice;pierogi;"
                                 "bibimbap;ceviche;lasagna;falafel;butter chicken")),
    "ingredient": SlotKind("string", _s("chickpeas;spinach;salmon;tofu;mushrooms;lentils;eggplant;"
                                       "quinoa;sweet potato;halloumi")),
    "diet": SlotKind("string", ("vegan", "vegetarian", "gluten-free", "keto"), enum=True),
    "symptom": SlotKind("string", _s("a sore throat;a migraine;lower back pain;a dry cough;"
                                    "itchy eyes;a sprained ankle;heartburn")),
    "medication": SlotKind("string", _s("ibuprofen;amoxicillin;loratadine;metformin;omeprazole;"
                                       "sertraline;paracetamol")),
    "exercise": SlotKind("string", _s("rowing;swimming;kettlebell swings;cycling;pilates;"
                                     "trail running;bouldering")),
    "movie": SlotKind("string", _s("Spirited Away;Parasite;Arrival;Amélie;Roma;Dune;Whiplash;"
                                  "Coco;Inception;Moonlight")),
    "genre": SlotKind("string", _s("jazz;synthwave;afrobeat;bossa nova;k-pop;bluegrass;techno;"
                                  "flamenco;reggae;indie folk")),
    "artist": SlotKind("string", _s("Fela Kuti;Björk;Nina Simone;Caetano Veloso;Rosalía;"
                                   "Ryuichi Sakamoto;Tinariwen;Khruangbin;Fatoumata Diawara")),
    "book": SlotKind("string", _s("Things Fall Apart;The Left Hand of Darkness;Dune;Beloved;"
                                 "Pedro Páramo;The Overstory;Piranesi;Kindred")),
    "author": SlotKind("string", _s("Chimamanda Ngozi Adichie;Haruki Murakami;Ursula K. Le Guin;"
                                   "Octavia Butler;Italo Calvino;Olga Tokarczuk;Kazuo Ishiguro")),
    "podcast": SlotKind("string", _s("Radiolab;99% Invisible;Hardcore History;Reply All;"
                                    "Planet Money;The Daily;Song Exploder")),
    "topic": SlotKind("string", _s("renewable energy;space exploration;urban farming;"
                                  "quantum computing;ocean plastics;public transit;"
                                  "antibiotic resistance;electric aviation")),
    "team": SlotKind("string", _s("Benfica;Ajax;Boca Juniors;Celtic;Galatasaray;Al Ahly;"
                                 "Kashima Antlers;Club América;Olympiacos;Red Star")),
    "product": SlotKind("string", _GOODS),
    "order_id": SlotKind("string", _s("ORD-48213;ORD-90117;ORD-55302;ORD-77841;ORD-31906;"
                                     "ORD-62455"), format="order id"),
    "tracking_number": SlotKind("string", _s("1Z999AA10123456784;JD014600006281234567;"
                                            "LX123456789DE;9400111899223344556677;"
                                            "RR987654321GB"), format="carrier tracking id"),
    "address": SlotKind("string", _s("14 Rua Augusta;221 Baker Street;8 Calle Mayor;"
                                    "50 Queen Street;3 Rue Cler;17 Via Roma;9 Kaiserstraße")),
    "device": SlotKind("string", _s("living room lights;bedroom thermostat;front door lock;"
                                   "garage door;kitchen speaker;porch camera;hallway heater")),
    "temperature": SlotKind("integer", (18, 19, 20, 21, 22, 23, 24)),
    "vehicle": SlotKind("string", _s("2019 Honda Civic;2021 Tesla Model 3;2016 Toyota Corolla;"
                                    "2020 Ford Ranger;2018 Volkswagen Golf;2022 Kia Niro")),
    "plate": SlotKind("string", _s("AB-123-CD;KX 4402;7ABC123;LM52 ZRT;B-MW 2024"),
                      format="licence plate"),
    "pet": SlotKind("string", _s("border collie;maine coon;corgi;dachshund;siamese cat;"
                                "bearded dragon;golden retriever")),
    "plant": SlotKind("string", _s("monstera;basil;tomatoes;lavender;fiddle leaf fig;orchids;"
                                  "blueberries;snake plant")),
    "job_title": SlotKind("string", _s("data engineer;nurse practitioner;UX designer;"
                                      "electrician;product manager;sous chef;"
                                      "high school teacher")),
    "course": SlotKind("string", _s("linear algebra;organic chemistry;Spanish for beginners;"
                                   "intro to statistics;music theory;machine learning;"
                                   "world history")),
    "word": SlotKind("string", _s("serendipity;ephemeral;ubiquitous;quixotic;sonder;petrichor;"
                                 "liminal;laconic")),
    "game": SlotKind("string", _s("Hades;Stardew Valley;Celeste;Elden Ring;Hollow Knight;"
                                 "Civilization VI;Tetris Effect")),
    "event": SlotKind("string", _s("the jazz festival;the marathon;the book fair;"
                                  "the food truck rally;the comic convention;"
                                  "the tech meetup;the open-air cinema")),
    "repo": SlotKind("string", _s("acme/billing-api;acme/web-frontend;data/etl-jobs;"
                                 "infra/terraform;ml/ranker;mobile/ios-app")),
    "branch": SlotKind("string", _s("main;release-2.4;feature/login;hotfix/payments;develop")),
    "service": SlotKind("string", _s("checkout-service;auth-gateway;search-indexer;"
                                    "payments-worker;notification-hub")),
    "ticket_id": SlotKind("string", _s("INC-2041;INC-3377;INC-5120;INC-6893;INC-7702")),
    "policy": SlotKind("string", _s("POL-88120;POL-40256;POL-71733;POL-19904;POL-52618"),
                       format="policy number"),
    "coin": SlotKind("string", _s("bitcoin;ether;solana;cardano;polkadot;litecoin")),
    "airline": SlotKind("string", _s("TAP;Kenya Airways;ANA;Air Canada;LATAM;Finnair;"
                                    "Turkish Airlines")),
    "flight_number": SlotKind("string", _s("TP1352;KQ101;NH204;AC870;LA2471;AY666;TK1760"),
                              format="IATA flight number"),
    "hotel": SlotKind("string", _s("Hotel Avenida;Casa Luz;The Harbour Inn;Villa Serena;"
                                  "Pensão Azul;Grand Meridian;Hostel Lumen")),
    "restaurant": SlotKind("string", _s("Taberna do Mar;Little Saigon;Casa Oaxaca;The Copper Pot;"
                                       "Sakura Bar;Mama Injera;Trattoria Nonna")),
    "budget": SlotKind("integer", (500, 800, 1200, 1500, 2000, 3000)),
    "zodiac": SlotKind("string", ("aries", "leo", "virgo", "libra", "pisces", "gemini"),
                       enum=True),
    "planet": SlotKind("string", ("Mars", "Jupiter", "Saturn", "Venus", "Mercury"), enum=True),
    "brand": SlotKind("string", _BRANDS),
    "keyword": SlotKind("string", _s("quarterly report;birthday party;visa renewal;"
                                    "kitchen renovation;tax return;wedding venue;"
                                    "conference talk")),
    "note": SlotKind("string", _s("buy oat milk;renew passport;water the plants;"
                                 "send the invoice;book the dentist;call grandma")),
    "zip_code": SlotKind("string", _s("1100-148;94110;SW1A 1AA;75007;10115;00184;2000"),
                         format="postal code"),
}
