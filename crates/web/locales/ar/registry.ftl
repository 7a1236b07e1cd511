## الأسرة وأفرادها كما يراهم الأعوان والمواطنون؛ البحث والتسجيل والمراجعة.
household-title = الأسرة { $id }
household-own-title = أسرتي
household-place = مكان السكن
household-address = العنوان
household-area = الوسط
household-area-urban = حضري
household-area-rural = قروي
household-dwelling = السكن
household-rooms = الغرف
household-spending = المصاريف الشهرية
household-spending-water = الماء
household-spending-electricity = الكهرباء
household-spending-phone = الهاتف
household-spending-gas = الغاز
household-income = الدخل الشهري المصرح به
household-assets = الممتلكات
household-version = النسخة { $n }، حُدّثت في { $date }
household-members = الأفراد
household-member-count = { $count ->
    [one] شخص واحد
    [two] شخصان
    [few] { $count } أشخاص
   *[other] { $count } شخصا
}
household-edit = تحديث معطيات هذه الأسرة
household-history = سجل التغييرات
member-name = الاسم
member-relation = العلاقة برب الأسرة
member-sex = الجنس
member-birth = تاريخ الازدياد
member-age = { $count ->
    [one] سنة واحدة
    [two] سنتان
    [few] { $count } سنوات
   *[other] { $count } سنة
}
member-national-id = البطاقة الوطنية
member-phone = الهاتف
member-disability = الإعاقة
member-schooling = التمدرس
member-occupation = النشاط
member-id = الرقم في السجل

index-title = مؤشر الأسرة
index-intro = يقدّر المؤشر مستوى عيش الأسرة انطلاقا مما صرّحت به. تقارنه البرامج بعتبتها: كلما كان أقل، أمكن لعدد أكبر من البرامج أن يساعد.
index-value = المؤشر: { $value }
index-average = أسرة مثل أسرتك في وسطك لها في المتوسط { $value }.
index-what-raised = ما رفع المؤشر
index-what-lowered = ما خفّض المؤشر
index-none = ليس لهذه الأسرة مؤشر بعد: يُحسب حالما يدخل نموذج المؤشر حيز التطبيق.
index-stale = المؤشر المعروض حُسب على نسخة سابقة من معطيات الأسرة؛ جارٍ تحديثه.
index-model = النموذج { $model }، النسخة { $version }

programmes-title = البرامج
programmes-none = لا يوجد أي برنامج مفتوح حاليا.
programme-yes = يمكنك الاستفادة منه
programme-no = لا يمكنك الاستفادة منه حاليا
programme-amount = { $amount } في { $period }
programme-period-month = الشهر
programme-period-quarter = الفصل
programme-period-year = السنة
programme-period-once = الدفعة
programme-enrolled = مسجّل منذ { $date }
programme-state-enrolled = مسجّل
programme-state-suspended = موقوف
programme-state-exited = خرج من البرنامج
programme-state-eligible = في انتظار التسجيل
programme-how-yes = لا شيء عليك القيام به: البرنامج يسجّل الأسر المؤهلة بنفسه. ستتوصل برسالة عند إتمام ذلك.
programme-how-no = إذا تغيّر وضعك، صرّح بالتغيير: يُعاد اتخاذ القرار فورا.
programme-how-enrolled = تظهر دفعاتك أسفله.

payments-title = الدفعات المتوصل بها
payments-none = لا توجد أي دفعة بعد.
payment-date = التاريخ
payment-cycle = الدورة
payment-amount = المبلغ
payment-state = الحالة
payment-state-pending = قيد الإعداد
payment-state-sent = أُرسلت إلى البنك
payment-state-paid = مدفوعة
payment-state-failed = فشلت
payment-state-reversed = أُرجعت

search-title = البحث عن شخص أو أسرة
search-label = الرقم في السجل أو البطاقة الوطنية أو الهاتف أو الاسم
search-hint = يمكن كتابة الاسم بالحروف اللاتينية أو العربية.
search-submit = بحث
search-none = لا أحد يطابق هذا البحث في مجالك الترابي.
search-results = { $count ->
    [one] تم العثور على شخص واحد
    [two] تم العثور على شخصين
    [few] تم العثور على { $count } أشخاص
   *[other] تم العثور على { $count } شخصا
}
search-open = فتح ملف الأسرة
search-no-household = خارج أي أسرة

register-title = تسجيل أسرة
update-title = تحديث معطيات الأسرة { $id }
form-household = الأسرة
form-commune = رمز الجماعة
form-commune-hint = حسب لائحة المندوبية السامية للتخطيط، مثلا 01.511.01.01
form-address = العنوان
form-dwelling = نوع السكن
form-tenure = صفة الإقامة
form-rooms = عدد الغرف
form-water = الماء (درهم في الشهر)
form-electricity = الكهرباء (درهم في الشهر)
form-phone-spending = الهاتف (درهم في الشهر)
form-gas = الغاز (درهم في الشهر)
form-income = الدخل المصرح به (درهم في الشهر)
form-assets = الممتلكات التي تملكها الأسرة
form-member = الفرد { $n }
form-member-hint = اترك الاسمين فارغين كي لا يُحتسب السطر.
form-first-name = الاسم الشخصي (بالحروف اللاتينية)
form-last-name = الاسم العائلي (بالحروف اللاتينية)
form-first-name-ar = الاسم الشخصي (بالحروف العربية)
form-last-name-ar = الاسم العائلي (بالحروف العربية)
form-birth-date = تاريخ الازدياد
form-national-id = رقم البطاقة الوطنية
form-phone = رقم الهاتف
form-more-members = أسطر إضافية للأفراد
form-reason = سبب التغيير
form-consent = يوافق المواطن على التسجيل وعلى استعمال هذه المعطيات لأغراض البرامج الاجتماعية؛ وقد اطّلع على مذكرة الإخبار.
form-consent-needed = موافقة المواطن ضرورية للحفظ.
form-errors = بعض الخانات تحتاج إلى تصحيح:
form-error-invalid = هذه القيمة غير صالحة.
form-error-required = هذه الخانة إلزامية.
form-error-format = هذه القيمة غير مكتوبة بالشكل المطلوب.
form-error-unknown_commune = لا توجد جماعة بهذا الرمز: استعمل رمز المندوبية السامية للتخطيط، مثلا 01.511.01.01.
form-error-too_long = هذا النص طويل جدا.
form-error-out_of_range = هذا العدد خارج الحدود المقبولة.
form-error-future_date = هذا التاريخ في المستقبل.
form-error-one_head = يجب أن يكون للأسرة رب واحد فقط.
form-error-too_many = عدد الأفراد كبير جدا بالنسبة لأسرة واحدة.
form-error-duplicate_member = الشخص نفسه مذكور مرتين.
form-error-duplicate_national_id = البطاقة الوطنية نفسها مذكورة مرتين.
form-errors-below = صحّح الخانات المشار إليها أسفله.
form-save = حفظ الأسرة
form-duplicates-title = قد يكون هذا الشخص مسجلا من قبل
form-duplicates-intro = تحقّق مع المواطن قبل الحفظ. إذا كان الشخص نفسه فلا تسجّله مرة ثانية: افتح ملف أسرته بدلا من ذلك.
form-duplicates-confirm = تحقّقت مع المواطن: إنهم أشخاص مختلفون.
form-duplicates-needed = أكّد أنك تحققت من التكرارات المحتملة، أو صحّح الاستمارة.
form-duplicate-of = { $name }، المزداد في { $date }
form-field-same = مطابق
form-field-close = قريب
form-field-different = مختلف
form-field-missing = غير متوفر

review-title = تكرارات محتملة للمراجعة
review-intro = بطاقتان قد تخصان الشخص نفسه. قارنهما خانة بخانة، ثم ادمجهما أو صنّفهما شخصين مختلفين.
review-none = لا شيء للمراجعة في مجالك الترابي.
review-probability = احتمال أن يكون الشخص نفسه { $percent }
review-field = الخانة
review-weight = الوزن
review-merge = الشخص نفسه: دمج
review-reject = شخصان مختلفان
review-undo = إلغاء الدمج
review-merged = تم الدمج
review-rejected = صُنّفا مختلفين
review-state-pending = للمراجعة
review-state-merged = مدمجان
review-state-rejected = شخصان مختلفان
review-show-decided = عرض الأزواج التي بُتّ فيها
review-show-pending = عرض الأزواج التي تنتظر المراجعة

done-household-saved = تم حفظ الأسرة.
done-merged = تم دمج البطاقتين في بطاقة واحدة.
done-rejected = تم تصنيف الزوج شخصين مختلفين.
done-unmerged = تم إلغاء الدمج.

vocab-relation-head = رب الأسرة
vocab-relation-spouse = الزوج أو الزوجة
vocab-relation-child = ابن أو ابنة
vocab-relation-parent = الأب أو الأم
vocab-relation-sibling = أخ أو أخت
vocab-relation-grandchild = حفيد أو حفيدة
vocab-relation-other_relative = قريب آخر
vocab-relation-non_relative = بدون قرابة
vocab-sex-M = ذكر
vocab-sex-F = أنثى
vocab-disability-none = لا توجد
vocab-disability-physical = حركية
vocab-disability-visual = بصرية
vocab-disability-hearing = سمعية
vocab-disability-mental = ذهنية
vocab-disability-multiple = متعددة
vocab-schooling-none = بدون
vocab-schooling-preschool = التعليم الأولي
vocab-schooling-primary = الابتدائي
vocab-schooling-lower_secondary = الإعدادي
vocab-schooling-upper_secondary = الثانوي التأهيلي
vocab-schooling-higher = التعليم العالي
vocab-occupation-employed = أجير
vocab-occupation-self_employed = يعمل لحسابه
vocab-occupation-unemployed = يبحث عن عمل
vocab-occupation-student = تلميذ أو طالب
vocab-occupation-homemaker = ربة أو رب بيت
vocab-occupation-retired = متقاعد
vocab-occupation-inactive = بدون نشاط
vocab-dwelling-apartment = شقة
vocab-dwelling-modern_house = منزل عصري
vocab-dwelling-traditional_house = منزل تقليدي
vocab-dwelling-rural_house = منزل قروي
vocab-dwelling-makeshift = سكن غير لائق
vocab-dwelling-other = آخر
vocab-tenure-owner = مالك
vocab-tenure-tenant = مكتري
vocab-tenure-free_lodging = سكن مجاني
vocab-tenure-other = آخر
vocab-asset-fridge = ثلاجة
vocab-asset-tv = تلفاز
vocab-asset-satellite_dish = صحن مقعر
vocab-asset-washing_machine = آلة غسيل
vocab-asset-computer = حاسوب
vocab-asset-internet = الإنترنت في المنزل
vocab-asset-motorcycle = دراجة نارية
vocab-asset-car = سيارة
vocab-asset-livestock = ماشية
vocab-asset-agricultural_land = أرض فلاحية

declare-title = التصريح بتغيير
declare-assisted-title = التصريح بتغيير لفائدة الأسرة { $id }
declare-intro = أخبرنا بما تغيّر في أسرتك. يُعاد اتخاذ القرار بشأن برامجك بمجرد أن يتحقق المركز من التغيير.
declare-what = ما الذي تغيّر؟
declare-documents-asked = الوثائق المطلوبة:
declare-details-legend = التغيير
declare-when = متى حدث ذلك؟
declare-details = في بضع كلمات
declare-details-hint = مثلا: اسم المولود ويوم الولادة.
declare-documents = الوثائق
declare-documents-hint = { $count ->
    [one] ملف واحد على الأكثر، PDF أو JPEG أو PNG، لا يتجاوز 900 كيلوبايت.
    [two] ملفان على الأكثر، PDF أو JPEG أو PNG، لا يتجاوز كل منهما 900 كيلوبايت.
    [few] { $count } ملفات على الأكثر، PDF أو JPEG أو PNG، لا يتجاوز كل منها 900 كيلوبايت.
   *[other] { $count } ملفا على الأكثر، PDF أو JPEG أو PNG، لا يتجاوز كل منها 900 كيلوبايت.
}
declare-submit = إرسال التصريح
declarations-title = التغييرات المصرح بها
declaration-status-received = تم التوصل به، في انتظار تحقق المركز
household-declare = التصريح بتغيير لفائدة هذه الأسرة
kind-birth = ولادة في الأسرة
kind-member_left = غادر أحد الأفراد الأسرة أو توفي
kind-moved = انتقلت الأسرة إلى سكن آخر
kind-income = تغيّر الدخل
kind-dwelling = تغيّر السكن
kind-disability = إعاقة
kind-other = شيء آخر
doc-birth-certificate = رسم الولادة
doc-death-or-residence = رسم الوفاة أو شهادة السكنى الجديدة
doc-residence-certificate = شهادة السكنى بالعنوان الجديد
doc-income-statement = ما يثبت الدخل (ورقة الأداء، المعاش، تصريح بالشرف)
doc-rent-or-title = عقد الكراء أو رسم الملكية
doc-disability-card = بطاقة الإعاقة أو شهادة طبية
done-change-declared = تم التوصل بتصريحك. سيتحقق منه المركز وستُخبر بالنتيجة.
form-error-file_type = لا تُقبل إلا ملفات PDF وJPEG وPNG.
form-error-active_pdf = يحتوي ملف PDF هذا على برامج نصية أو ملفات مرفقة: أرسل ملف PDF بسيطا أو صورة.
form-error-too_large = يتجاوز هذا الملف 900 كيلوبايت.
form-error-empty = هذا الملف فارغ.
form-choose = اختر…
